/** The USB RS-485 adapters the udev tests stand in for: their udev properties. */
/** Trimmed `udevadm info --query=property --name=/dev/ttyUSB0` of each adapter (a Pi 4, port 1.3). */
export const ADAPTERS = {
  ftdi: { DEVNAME: '/dev/ttyUSB0', ID_BUS: 'usb', ID_VENDOR_ID: '0403', ID_MODEL_ID: '6001', ID_MODEL: 'FT232R_USB_UART', ID_SERIAL_SHORT: 'A50285BI', ID_USB_INTERFACE_NUM: '00', ID_PATH: 'platform-fd500000.pcie-pci-0000:01:00.0-usb-0:1.3:1.0' },
  cp2102: { DEVNAME: '/dev/ttyUSB0', ID_BUS: 'usb', ID_VENDOR_ID: '10c4', ID_MODEL_ID: 'ea60', ID_MODEL: 'CP2102_USB_to_UART_Bridge_Controller', ID_SERIAL_SHORT: '0a1b2c3d', ID_USB_INTERFACE_NUM: '00', ID_PATH: 'platform-fd500000.pcie-pci-0000:01:00.0-usb-0:1.3:1.0' },
  cp2102Default: { DEVNAME: '/dev/ttyUSB1', ID_BUS: 'usb', ID_VENDOR_ID: '10c4', ID_MODEL_ID: 'ea60', ID_SERIAL_SHORT: '0001', ID_USB_INTERFACE_NUM: '00', ID_PATH: 'platform-fd500000.pcie-pci-0000:01:00.0-usb-0:1.4:1.0' },
  ch340: { DEVNAME: '/dev/ttyUSB0', ID_BUS: 'usb', ID_VENDOR_ID: '1a86', ID_MODEL_ID: '7523', ID_MODEL: 'USB_Serial', ID_USB_INTERFACE_NUM: '00', ID_PATH: 'platform-fd500000.pcie-pci-0000:01:00.0-usb-0:1.3:1.0' },
};

