/**
 * One error taxonomy for the field buses (nanoMODBUS `nmbs_error`): transport failures apart
 * from Modbus exceptions. Tests check `code`, never message text.
 */

export type TransportCode = 'E_TIMEOUT' | 'E_CRC' | 'E_SHORT_FRAME' | 'E_WRONG_UNIT' | 'E_WRONG_FUNCTION' | 'E_PORT' | 'E_DEADLINE';

/** The frame never arrived, arrived damaged, or came from someone else. Worth a retry. */
export class ModbusTransportError extends Error {
  constructor(readonly code: TransportCode, message: string, readonly unit: number | null = null) {
    super(message);
    this.name = 'ModbusTransportError';
  }
}

/**
 * The device answered with an exception (Modbus Application Protocol V1.1b3 §7): 1 illegal
 * function, 2 illegal data address, 3 illegal data value, 4 server device failure (and 5–11).
 * The device is alive; retrying the same request will not help.
 */
export class ModbusExceptionError extends Error {
  readonly code: `E_EXCEPTION_${number}`;
  constructor(readonly exception: number, readonly unit: number | null = null) {
    super(`Modbus exception ${exception}`);
    this.name = 'ModbusExceptionError';
    this.code = `E_EXCEPTION_${exception}`;
  }
}

export type ModbusError = ModbusTransportError | ModbusExceptionError;

/** Turns whatever modbus-serial (or a socket) threw into our taxonomy. */
export function classify(err: unknown, unit: number | null = null): ModbusError {
  if (err instanceof ModbusTransportError || err instanceof ModbusExceptionError) return err;
  const e = err as { message?: string; name?: string; modbusCode?: number; errno?: string; code?: string };
  if (typeof e?.modbusCode === 'number') return new ModbusExceptionError(e.modbusCode, unit);
  const msg = String(e?.message ?? err);
  if (e?.name === 'TransactionTimedOutError' || msg === 'Timed out' || e?.errno === 'ETIMEDOUT') return new ModbusTransportError('E_TIMEOUT', msg, unit);
  if (msg.startsWith('CRC error')) return new ModbusTransportError('E_CRC', msg, unit);
  if (msg.startsWith('Data length error')) return new ModbusTransportError('E_SHORT_FRAME', msg, unit);
  if (msg.includes('expected address')) return new ModbusTransportError('E_WRONG_UNIT', msg, unit);
  if (msg.includes('expected code')) return new ModbusTransportError('E_WRONG_FUNCTION', msg, unit);
  return new ModbusTransportError('E_PORT', msg, unit);
}

/** For withDeadline (gateway/shell/timing.ts): an E_DEADLINE for `what` that did not answer in time. */
export function noAnswer(what: string, unit: number | null = null): (ms: number) => never {
  return (ms) => {
    throw new ModbusTransportError('E_DEADLINE', `${what}: no answer in ${ms} ms`, unit);
  };
}
