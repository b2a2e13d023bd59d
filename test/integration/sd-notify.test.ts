/**
 * The sd_notify addon (gateway/shell/sd-notify.c) against a real AF_UNIX datagram socket with
 * SO_PASSCRED, as systemd listens: the message arrives whole, from this process's PID (what the
 * unit's default NotifyAccess=main requires), on a path and in the abstract namespace; a socket
 * nobody listens on is an errno, not an exception; bad names and a missing addon are errors
 * with codes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadAddon, notifier, SdNotifyError } from '../../gateway/shell/sd-notify.ts';
import { buildAddon, notifyListener, type NotifyListener } from '../helpers/notify-listener.ts';
import { until } from '../helpers/until.ts';

const listeners: NotifyListener[] = [];
beforeAll(() => buildAddon());
afterAll(() => {
  for (const l of listeners) l.close();
});

describe('sd_notify addon', () => {
  for (const abstract of [false, true]) {
    it(`delivers a notification from this PID (${abstract ? 'abstract @name' : 'path'} socket)`, async () => {
      const l = await notifyListener(abstract);
      listeners.push(l);
      const n = notifier(l.socket);
      expect(n.send('READY=1\nSTATUS=running: 哨兵')).toBe(0);
      const got = await until('the datagram', () => l.received[0]);
      expect(got).toEqual({ pid: process.pid, uid: process.getuid!(), msg: 'READY=1\nSTATUS=running: 哨兵' });
    });
  }

  it('a socket nobody listens on returns the errno and throws nothing', () => {
    const n = notifier('/nonexistent-dir/notify.sock');
    expect(n.send('WATCHDOG=1')).toBe(2); // ENOENT
    expect(notifier('@sb-nobody-listens-here').send('WATCHDOG=1')).toBe(111); // ECONNREFUSED
  });

  it('refuses socket names systemd never gives, and empty or oversized messages', () => {
    for (const bad of ['relative.sock', '', `/${'x'.repeat(120)}`]) {
      expect(() => notifier(bad)).toThrow(expect.objectContaining({ code: 'bad_socket' }));
    }
    const addon = loadAddon();
    expect(() => addon.send('/tmp/x.sock', '')).toThrow(expect.objectContaining({ code: 'ERR_SD_NOTIFY_ARGUMENT' }));
    expect(() => addon.send('/tmp/x.sock', 'x'.repeat(4097))).toThrow(expect.objectContaining({ code: 'ERR_SD_NOTIFY_ARGUMENT' }));
    expect(() => (addon.send as (...a: unknown[]) => number)('/tmp/x.sock')).toThrow(expect.objectContaining({ code: 'ERR_SD_NOTIFY_ARGUMENT' }));
  });

  it('a missing addon is an SdNotifyError addon_missing, naming the file', () => {
    let err: unknown;
    try {
      notifier('/run/x.sock', '/nonexistent/sd-notify.node');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SdNotifyError);
    expect(err).toMatchObject({ code: 'addon_missing', message: expect.stringContaining('/nonexistent/sd-notify.node') });
  });
});
