/**
 * Opening and closing a serial port within a deadline (a `close()` that never
 * calls back, an open that hangs on a wedged USB adapter). Both the driver and the simulator use
 * these; neither ever waits on serialport's callbacks without a timer.
 */
import { SerialPort, type SerialPortMock } from 'serialport';
import { withDeadline } from '../../gateway/shell/timing.ts';
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
export async function openPort(o: PortOptions, timeoutMs: number): Promise<SerialPort> {
  let port: SerialPort;
  try {
    // serialport 13 spreads these options over `{ binding: <platform binding> }`
    // (serialport/dist/serialport.js), so a binding given here replaces the platform one;
    // its typings omit `binding` only because the default is usually wanted.
    const options = { path: o.path, baudRate: o.baudRate, autoOpen: false };
    port = new SerialPort(o.binding ? Object.assign(options, { binding: o.binding }) : options);
  } catch (err) {
    throw new SerialError('E_SERIAL_OPEN', `cannot open ${o.path}: ${(err as Error).message}`, { cause: err });
  }
  // Errors after open are the caller's; until then a stray one must not crash the process.
  port.on('error', () => undefined);
  let late = false;
  const opening = new Promise<SerialPort>((resolve, reject) => {
    port.open((err) => {
      if (err) return reject(new SerialError('E_SERIAL_OPEN', `cannot open ${o.path}: ${err.message}`, { cause: err }));
      if (late) void closePort(port, timeoutMs);
      resolve(port);
    });
  });
  return withDeadline(opening, timeoutMs, (ms): never => {
    late = true;
    throw new SerialError('E_SERIAL_TIMEOUT', `opening ${o.path} took longer than ${ms} ms`);
  });
}

export type CloseOutcome = 'closed' | 'not_open' | 'timeout' | 'failed';

/**
 * Closes a port; always resolves within `timeoutMs`. A close that never calls back is
 * abandoned (`timeout`): the caller drops the port object and may open the path again.
 */
export function closePort(port: SerialPort, timeoutMs: number): Promise<CloseOutcome> {
  if (!port.isOpen) return Promise.resolve('not_open');
  const closing = new Promise<CloseOutcome>((resolve) => {
    port.close((err) => {
      // A disconnect error passed to the callback still means the port is closed now.
      resolve(err && !(err as { disconnected?: boolean }).disconnected ? 'failed' : 'closed');
    });
  });
  return withDeadline(closing, timeoutMs, () => 'timeout' as const);
}

/** Writes and waits until the OS has the bytes (drain), within `timeoutMs`. */
export function writePort(port: SerialPort, bytes: Uint8Array | string, timeoutMs: number): Promise<void> {
  const writing = new Promise<void>((resolve, reject) => {
    port.write(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : Buffer.from(bytes), (err) => {
      if (err) return reject(new SerialError('E_SERIAL_WRITE', `write to ${port.path} failed: ${err.message}`, { cause: err }));
      port.drain((drainErr) => {
        if (drainErr) reject(new SerialError('E_SERIAL_WRITE', `drain of ${port.path} failed: ${drainErr.message}`, { cause: drainErr }));
        else resolve();
      });
    });
  });
  return withDeadline(writing, timeoutMs, (ms): never => {
    throw new SerialError('E_SERIAL_WRITE', `write to ${port.path} took longer than ${ms} ms`);
  });
}
