import { createRequire } from 'node:module';
import { format } from 'node:util';
import { describe, expect, it } from 'vitest';
import { quietDisabledDebug } from '../../gateway/broker/quiet-debug.ts';

const require = createRequire(import.meta.url);
const debugOfMqttPacket = (): any => createRequire(require.resolve('mqtt-packet'))('debug');

describe('quietDisabledDebug', () => {
  it('makes loggers of disabled namespaces one shared no-op that takes any arguments', () => {
    expect(quietDisabledDebug()).toBe(true);
    const factory = debugOfMqttPacket();
    const a = factory('mqtt-packet:parser');
    const b = factory('something:else');
    expect(a).toBe(b);
    expect(a.enabled).toBe(false);
    expect(a('parse %o', { x: 1 }, 2, 3)).toBeUndefined();
    expect(a.extend('sub')).toBe(a);
  });

  it('still gives the real logger to a namespace enabled when it is made', () => {
    quietDisabledDebug();
    const factory = debugOfMqttPacket();
    factory.enable('sb-test:*');
    try {
      const lines: unknown[][] = [];
      const log = factory('sb-test:one');
      expect(log.enabled).toBe(true);
      log.log = (...args: unknown[]) => lines.push(args);
      log('hello %d', 5);
      expect(lines).toHaveLength(1);
      expect(format(...(lines[0] as [string]))).toContain('sb-test:one hello 5');
    } finally {
      factory.disable();
    }
  });

  it('is idempotent and reports a package it cannot find', () => {
    expect(quietDisabledDebug()).toBe(true);
    expect(quietDisabledDebug()).toBe(true);
    expect(quietDisabledDebug('no-such-package-here')).toBe(false);
  });

  it('is in place once the broker module is loaded', async () => {
    await import('../../gateway/broker/broker.ts');
    expect(debugOfMqttPacket()('mqtt-packet:parser').enabled).toBe(false);
    expect(debugOfMqttPacket().quiet).toBe(true);
  });
});
