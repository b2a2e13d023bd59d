/**
 * CAP for the township: each transition as the exporter's CAP 1.2 XML (validated against the
 * OASIS XSD with xmllint), with an MQTT 5 expiry from `expires` counted from now; a message
 * already past `expires` is not sent and the outcome says so.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { CapOut, type CapOutcome } from '../../gateway/uplink/cap-out.ts';
import type { SideMessage } from '../../gateway/uplink/side-message.ts';
import { rainTransition, site, T0 } from '../helpers/site.ts';

const XSD = fileURLToPath(new URL('../../../shared/standards/cap/CAP-v1.2.xsd', import.meta.url));
if (!existsSync(XSD)) throw new Error(`CAP-v1.2.xsd not found at ${XSD}`);
const dir = mkdtempSync(join(tmpdir(), 'cap-out-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

function validates(xml: string): void {
  const file = join(dir, `m${++files}.xml`);
  writeFileSync(file, xml);
  const r = spawnSync('xmllint', ['--noout', '--schema', XSD, file], { encoding: 'utf8' });
  if (r.error) throw r.error; // xmllint missing: fail, never pass vacuously
  expect(`${r.stdout}${r.stderr}`, xml).toContain('validates');
  expect(r.status).toBe(0);
}

const cfg = site(`
site:
  id: demo
  name: 示范社区
  cap: { area_code: '410100', agency_code: '41600000', sender: 'shaobing.demo' }
sensors:
  - { id: rg1, kind: rain }
`);
const HOUR = 3_600_000;

function sent(o: CapOutcome): SideMessage {
  if (!('message' in o)) throw new Error(`not sent: ${JSON.stringify(o)}`);
  return o.message;
}

describe('cap for the township', () => {
  it('sends every transition as schema-valid CAP on sb/v1/<site>/cap, expiring with the message', () => {
    const out = new CapOut(cfg);
    const chain = [rainTransition('raised', 'orange'), rainTransition('escalated', 'red', { previousLevel: 'orange', at: T0 + 60_000 }), rainTransition('cleared', 'red', { at: T0 + 120_000 })];
    const msgs = chain.map((t) => sent(out.message(t, t.at + 250)));
    for (const m of msgs) {
      expect(m).toMatchObject({ topic: 'sb/v1/demo/cap', retain: false, qos: 1 });
      expect(m.key).toBeUndefined(); // every message of the chain matters, none replaces another
      validates(m.payload as string);
    }
    expect(msgs.map((m) => /<msgType>(\w+)</.exec(m.payload as string)![1])).toEqual(['Alert', 'Update', 'Cancel']);
    // The exporter's 6 h validity, counted from now (0.25 s after sent: whole seconds, rounded down).
    expect(msgs[0]!.expirySeconds).toBe(6 * 3600 - 1);
    expect(msgs[1]!.expirySeconds).toBe(6 * 3600 - 1);
    // A Cancel has no expires, so no expiry: it must reach whoever holds the warning.
    expect(msgs[2]).not.toHaveProperty('expirySeconds');
    expect(msgs[2]!.payload).toContain(`<references>shaobing.demo,41010041600000_`);
  });

  it('counts the expiry from now: a transition sent late gets what is left', () => {
    const out = new CapOut(cfg);
    expect(sent(out.message(rainTransition('raised', 'red'), T0 + 5 * HOUR)).expirySeconds).toBe(3600);
  });

  it('does not send a message already expired (or less than a second from it), and says so', () => {
    const out = new CapOut(cfg);
    const late = out.message(rainTransition('raised', 'red'), T0 + 7 * HOUR);
    expect(late).toEqual({ identifier: '41010041600000_20260720000000', skipped: 'expired', expires: '2026-07-20T06:00:00+08:00' });
    const edge = new CapOut(cfg).message(rainTransition('raised', 'red'), T0 + 6 * HOUR - 500);
    expect(edge).toMatchObject({ skipped: 'expired' });
    const justIn = new CapOut(cfg).message(rainTransition('raised', 'red'), T0 + 6 * HOUR - 1000);
    expect(sent(justIn).expirySeconds).toBe(1);
  });

  it('keeps the reference chain through a skipped message', () => {
    const out = new CapOut(cfg);
    const skipped = out.message(rainTransition('raised', 'red'), T0 + 7 * HOUR);
    const cancel = sent(out.message(rainTransition('cleared', 'red', { at: T0 + 7 * HOUR }), T0 + 7 * HOUR));
    expect(cancel.payload).toContain(`<references>shaobing.demo,${skipped.identifier},2026-07-20T00:00:00+08:00</references>`);
    validates(cancel.payload as string);
  });

  it('marks a drill as an Exercise', () => {
    const m = sent(new CapOut(cfg).message(rainTransition('raised', 'red'), T0, true));
    expect(m.payload).toContain('<status>Exercise</status>');
    validates(m.payload as string);
  });
});
