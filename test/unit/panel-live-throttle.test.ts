/**
 * The live stream's `state` pushes (panel/live.ts): the first change goes out right after the
 * step's siren commands (two setImmediate hops, never inside the step), then at most one per
 * STATE_MS, every change meanwhile in the next one. Fake timers; a fake response records writes.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { pino } from 'pino';
import { LiveFeed, STATE_MS } from '../../gateway/panel/live.ts';
import { Bus } from '../../gateway/shell/bus.ts';
import { site } from '../helpers/site.ts';

const log = pino({ level: 'silent' });

function fakeRes(): { res: any; writes: string[] } {
  const writes: string[] = [];
  const res = { writableEnded: false, destroyed: false, writableLength: 0, writeHead: () => res, write: (t: string) => writes.push(t), on: () => res, end: () => (res.writableEnded = true) };
  return { res, writes };
}

describe('panel live: state pushes', () => {
  beforeEach(() => void vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'setInterval', 'clearInterval', 'performance'] }));
  afterEach(() => void vi.useRealTimers());

  it('first change: right after the commands; then at most one per STATE_MS with everything since', async () => {
    const config = site(`site: { id: t, name: t }\nsensors: [{ id: rg1, kind: rain }]`);
    const bus = new Bus(log);
    let built = 0;
    const feed = new LiveFeed({ config, bus, log, clock: { wall: () => Date.now(), mono: () => performance.now(), trusted: () => true, boot: 'b' } }, async () => ({ n: ++built }), log);
    feed.start();
    const { res, writes } = fakeRes();
    await feed.add(res, 'tok', 'wang');
    expect(built).toBe(1); // the first state of a new stream
    const states = (): number => writes.filter((w) => w.startsWith('event: state')).length;
    const logged = (seq: number): void => bus.emit('logged', { seq, type: 'command', atWall: Date.now(), payload: {} });

    logged(1);
    expect(built).toBe(1); // never inside the step
    await vi.advanceTimersByTimeAsync(1); // the two setImmediate hops
    expect(built).toBe(2);
    // Within STATE_MS of that one: waits for the end of it, and takes every change since.
    await vi.advanceTimersByTimeAsync(9);
    logged(2);
    logged(3);
    bus.emit('actuatorReport', { actuator: 'spk1', report: 'done', activity: 'act-1' });
    await vi.advanceTimersByTimeAsync(STATE_MS - 10);
    expect(built).toBe(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(built).toBe(3);
    // A quiet while: the next change goes out at once again.
    await vi.advanceTimersByTimeAsync(5 * STATE_MS);
    logged(4);
    await vi.advanceTimersByTimeAsync(1);
    expect(built).toBe(4);
    expect(states()).toBe(4);
    feed.stop();
    logged(5);
    await vi.advanceTimersByTimeAsync(5 * STATE_MS);
    expect(built).toBe(4); // stopped: no client, nothing built
  });
});
