/**
 * What the doctor says about a Modbus failure, in words a technician acts on: the error
 * taxonomy of drivers/modbus/errors.ts (transport failures apart from exceptions, Modbus
 * Application Protocol V1.1b3 §7) turned into a finding and a fix. Pure.
 */
import type { Said } from './types.ts';
import { said } from './types.ts';

const EXCEPTIONS: Record<number, Said> = {
  1: said('非法功能码(设备不支持此读法)', 'illegal function: the device does not support this read'),
  2: said('非法数据地址(设备没有这个寄存器)', 'illegal data address: the device has no such register'),
  3: said('非法数据值(设备拒绝了这次读的长度)', 'illegal data value: the device refused the length of the read'),
  4: said('从站设备故障(设备报告内部故障)', 'server device failure: the device reports an internal fault'),
  5: said('确认,正在处理', 'acknowledge: still processing'),
  6: said('从站设备忙', 'server device busy'),
};

/** A finding and a fix for `code` (E_TIMEOUT, E_CRC, …, E_EXCEPTION_n) on an RTU line or a TCP gateway. */
export function modbusFailure(code: string, o: { unit: number; rtu: boolean; timeoutMs: number; profile: string }): { said: Said; fix: Said } {
  const ex = /^E_EXCEPTION_(\d+)$/.exec(code);
  if (ex) {
    const n = Number(ex[1]);
    const what = EXCEPTIONS[n] ?? said(`异常码 ${n}`, `exception ${n}`);
    const fix =
      n === 4
        ? said('设备在线但报告故障:检查传感器本体(探头、接线盒进水)', 'the device is alive but reports a fault: check the sensor itself (probe, water in the junction box)')
        : n === 5 || n === 6
          ? said('设备忙,稍后再查;反复出现则检查设备', 'the device is busy: check again later; if it persists, check the device')
          : said(`设备在线但不认这个寄存器:配置的型号 ${o.profile} 与设备不符,或地址 ${o.unit} 上是另一台设备`, `the device is alive but does not know this register: the configured profile ${o.profile} is not this device's model, or another device has unit id ${o.unit}`);
    return { said: said(`应答异常:${what.zh}`, `answered with a Modbus exception: ${what.en}`), fix };
  }
  const wiring = o.rtu ? said('检查 A/B 接线、终端电阻(120 Ω)、波特率和校验位', 'check the A/B wiring, the 120 Ω termination, the baud rate and parity') : said('检查 Modbus TCP 网关的串口侧接线和设置', "check the wiring and serial settings on the Modbus TCP gateway's RS-485 side");
  switch (code) {
    case 'E_TIMEOUT':
    case 'E_DEADLINE':
      return {
        said: said(`${o.timeoutMs} ms 内无应答`, `no answer within ${o.timeoutMs} ms`),
        fix: said(`检查设备电源、地址 ${o.unit}(拨码开关)、${wiring.zh}`, `check the device's power, its unit id ${o.unit} (DIP switches), ${wiring.en}`),
      };
    case 'E_CRC':
      return { said: said('应答校验错误(CRC)', 'the answer was garbled (CRC error)'), fix: said(`线路干扰或设置不符:${wiring.zh};线上只能有一个主站`, `noise or mismatched settings: ${wiring.en}; only one master may be on the line`) };
    case 'E_SHORT_FRAME':
      return { said: said('应答不完整', 'the answer was cut short'), fix: said(`线路干扰或设置不符:${wiring.zh}`, `noise or mismatched settings: ${wiring.en}`) };
    case 'E_WRONG_UNIT':
      return { said: said('另一台设备应答了', 'another unit answered'), fix: said(`两台设备用了同一个地址 ${o.unit}:改其中一台的拨码`, `two devices share unit id ${o.unit}: change one's DIP switches`) };
    case 'E_WRONG_FUNCTION':
      return { said: said('应答的功能码不符', 'the answer was for another function code'), fix: said(`线上可能有第二个主站,或设备型号不是 ${o.profile}`, `a second master may be on the line, or the device is not a ${o.profile}`) };
    default:
      return { said: said(`连接断开(${code})`, `the link failed (${code})`), fix: said('检查串口适配器或网关的连接', 'check the serial adapter or the gateway connection') };
  }
}

/** Why a serial device or TCP gateway cannot be opened, from the OS's error code. */
export function openFailure(errno: string | undefined, message: string, o: { path: string; rtu: boolean }): { said: Said; fix: Said } {
  switch (errno) {
    case 'EACCES':
    case 'EPERM':
      return { said: said('没有权限打开', 'permission denied'), fix: said(`把运行哨兵的用户加入 dialout 组(usermod -aG dialout <用户>)`, 'add the user the box runs as to the dialout group (usermod -aG dialout <user>)') };
    case 'EBUSY':
      return { said: said('被占用', 'busy'), fix: said('另有程序占用此串口:找出并停止它(fuser ' + o.path + ')', `another program holds the port: find and stop it (fuser ${o.path})`) };
    case 'ECONNREFUSED':
      return { said: said('网关拒绝连接', 'the gateway refused the connection'), fix: said('检查网关的 IP、端口(通常 502)和 Modbus TCP 服务是否开启', "check the gateway's IP, port (usually 502) and that its Modbus TCP server is on") };
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'ETIMEDOUT':
      return { said: said('网关不可达', 'the gateway cannot be reached'), fix: said('检查网线、网关电源和 IP 地址(ping)', "check the network cable, the gateway's power and its IP address (ping)") };
    default:
      return o.rtu
        ? { said: said(`打不开:${message}`, `cannot open: ${message}`), fix: said('重新插拔 USB-RS485 转换器,用 ls -l /dev/serial/by-id/ 找到它', 'replug the USB-RS485 adapter and find it with ls -l /dev/serial/by-id/') }
        : { said: said(`连不上:${message}`, `cannot connect: ${message}`), fix: said('检查网关的电源、网线和 IP 地址', "check the gateway's power, network cable and IP address") };
  }
}
