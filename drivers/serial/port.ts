/**
 * Opening and closing a serial port within a deadline (peer lesson 3: a `close()` that never
 * calls back, an open that hangs on a wedged USB adapter). Both the driver and the simulator use
 * these; neither ever waits on serialport's callbacks without a timer.
 */
import { SerialPort, type SerialPortMock } from 'serialport';
import { SerialError } from './types.ts';

/**
 * A serialport binding: the platform one (default) or `MockBinding` from
 * `@serialport/binding-mock` for unit tests (STYLE.md: simulators plug in at the port).
 */
export type SerialBinding = typeof SerialPort.binding | typeof SerialPortMock.binding;

export interface PortOptions {
  path: string;
  baudRate: number;
  binding?: SerialBinding;
}

/**
 * Opens a port, resolving with it open or rejecting with a SerialError within `timeoutMs`.
 * If the open completes after the deadline, the late port is closed again so that it does not
 * keep the device locked against the next attempt.
 */
export function openPort(o: PortOptions, timeoutMs: number): Promise<SerialPort> {
  return new Promise((resolve, reject) => {
    let port: SerialPort;
    try {
      // serialport 13 spreads these options over `{ binding: <platform binding> }`
      // (serialport/dist/serialport.js), so a binding given here replaces the platform one;
      // its typings omit `binding` only because the default is usually wanted.
      const options = { path: o.path, baudRate: o.baudRate, autoOpen: false };
      port = new SerialPort(o.binding ? Object.assign(options, { binding: o.binding }) : options);
    } catch (err) {
      reject(new SerialError('E_SERIAL_OPEN', `cannot open ${o.path}: ${(err as Error).message}`, { cause: err }));
      return;
    }
    // Errors after open are the caller's; until then a stray one must not crash the process.
    port.on('error', () => undefined);
    let settled = false;
    const timer = setTimeout(() => {
      settled = true;
      reject(new SerialError('E_SERIAL_TIMEOUT', `opening ${o.path} took longer than ${timeoutMs} ms`));
    }, timeoutMs);
    port.open((err) => {
      clearTimeout(timer);
      if (settled) {
        if (!err) void closePort(port, timeoutMs);
        return;
      }
      settled = true;
      if (err) reject(new SerialError('E_SERIAL_OPEN', `cannot open ${o.path}: ${err.message}`, { cause: err }));
      else resolve(port);
    });
  });
}

export type CloseOutcome = 'closed' | 'not_open' | 'timeout' | 'failed';

/**
 * Closes a port; always resolves within `timeoutMs`. A close that never calls back is
 * abandoned (`timeout`): the caller drops the port object and may open the path again.
 */
export function closePort(port: SerialPort, timeoutMs: number): Promise<CloseOutcome> {
  if (!port.isOpen) return Promise.resolve('not_open');
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve('timeout'), timeoutMs);
    port.close((err) => {
      clearTimeout(timer);
      // A disconnect error passed to the callback still means the port is closed now.
      resolve(err && !(err as { disconnected?: boolean }).disconnected ? 'failed' : 'closed');
    });
  });
}

/** Writes and waits until the OS has the bytes (drain), within `timeoutMs`. */
export function writePort(port: SerialPort, bytes: Uint8Array | string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new SerialError('E_SERIAL_WRITE', `write to ${port.path} took longer than ${timeoutMs} ms`)), timeoutMs);
    port.write(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : Buffer.from(bytes), (err) => {
      if (err) {
        clearTimeout(timer);
        reject(new SerialError('E_SERIAL_WRITE', `write to ${port.path} failed: ${err.message}`, { cause: err }));
        return;
      }
      port.drain((drainErr) => {
        clearTimeout(timer);
        if (drainErr) reject(new SerialError('E_SERIAL_WRITE', `drain of ${port.path} failed: ${drainErr.message}`, { cause: drainErr }));
        else resolve();
      });
    });
  });
}
