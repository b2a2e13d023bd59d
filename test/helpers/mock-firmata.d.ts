/** mock-firmata 0.2 (a board-io board whose methods do nothing), as far as test/helpers/panel-hw-rig.ts uses it. */
declare module 'mock-firmata' {
  import { EventEmitter } from 'node:events';

  interface MockPin {
    supportedModes: number[];
    mode: number;
    value: number;
    report: number;
    analogChannel: number;
  }

  class MockFirmata extends EventEmitter {
    constructor(opts?: { pins?: MockPin[] });
    readonly pins: MockPin[];
    readonly isReady: boolean;
    readonly MODES: Record<string, number>;
    readonly HIGH: number;
    readonly LOW: number;
    name: string;
    pinMode(pin: number, mode: number): void;
    digitalWrite(pin: number, value: number): void;
    analogWrite(pin: number, value: number): void;
    digitalRead(pin: number, cb: (value: number) => void): void;
  }

  const mock: { Firmata: typeof MockFirmata; Pins: { UNO: MockPin[] } };
  export default mock;
}
