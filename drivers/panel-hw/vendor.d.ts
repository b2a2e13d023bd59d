/**
 * The little of johnny-five 2.1 and firmata-io 2.3 the panel driver uses (neither ships
 * types). Kept to what drivers/panel-hw/ calls, so a wrong call is a compile error.
 */
declare module 'johnny-five' {
  import { EventEmitter } from 'node:events';

  interface BoardOptions {
    io: EventEmitter;
    /** johnny-five's REPL on stdin: never in the box. */
    repl?: boolean;
    /** johnny-five's own console lines (the module logs through pino instead). */
    debug?: boolean;
    /** On SIGINT johnny-five would exit the process itself: the box has its own shutdown. */
    sigint?: boolean;
    /** ms from the io's connect to its ready before the board emits an error. */
    timeout?: number;
  }

  class Board extends EventEmitter {
    constructor(options: BoardOptions);
    readonly io: EventEmitter;
    readonly isReady: boolean;
    /** The connect-to-ready timer johnny-five starts on connect. */
    timer: NodeJS.Timeout | null;
    digitalRead(pin: number, cb: (value: number) => void): this;
    digitalWrite(pin: number, value: number): this;
    analogWrite(pin: number, value: number): this;
    pinMode(pin: number, mode: number): this;
    /** Every Board ever made (johnny-five's module-level registry; it never lets one go by itself). */
    static readonly cache: Board[];
  }

  const five: { Board: typeof Board };
  export default five;
}

declare module 'firmata-io' {
  import { EventEmitter } from 'node:events';

  interface FirmataOptions {
    /** ms to wait for the firmware's own version report before asking for it (default 5000). */
    reportVersionTimeout?: number;
  }

  class Firmata extends EventEmitter {
    constructor(transport: EventEmitter, options?: FirmataOptions);
    reportVersionTimeoutId?: NodeJS.Timeout;
  }

  /** firmata-io exports a function binding a default Transport class; `.Firmata` is the class itself. */
  const bindTransport: { (transport: unknown): typeof Firmata; Firmata: typeof Firmata };
  export default bindTransport;
}
