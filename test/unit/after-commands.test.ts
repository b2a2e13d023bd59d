import { describe, expect, it } from 'vitest';
import { afterCommands } from '../../gateway/shell/after-commands.ts';

const settle = (): Promise<void> => new Promise((r) => setImmediate(() => setImmediate(() => setImmediate(r))));

describe('afterCommands', () => {
  it('runs after an immediate that the current step scheduled from a microtask (aedes writing a command)', async () => {
    const order: string[] = [];
    afterCommands(() => order.push('deferred work'));
    void Promise.resolve().then(() => setImmediate(() => order.push('command written')));
    order.push('step returns');
    await settle();
    expect(order).toEqual(['step returns', 'command written', 'deferred work']);
  });

  it('keeps the order of deferred work', async () => {
    const order: number[] = [];
    for (let i = 0; i < 3; i++) afterCommands(() => order.push(i));
    await settle();
    expect(order).toEqual([0, 1, 2]);
  });
});
