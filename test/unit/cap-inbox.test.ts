/** The CAP inbox's decisions: which warnings become broadcasts, at what priority, and how Update and Cancel follow them. */
import { describe, expect, it } from 'vitest';
import { createCapInbox, onCap, priorityOf, TEXT_MAX, type CapDecision, type CapInboxOptions, type CapInboxState } from '../../gateway/cap/cap-inbox.ts';
import type { Severity, Urgency } from '../../gateway/cap/cap-read.ts';
import type { CapConfig } from '../../gateway/config/types.ts';
import type { Command } from '../../gateway/planner/types.ts';
import { BAODING, BAODING_NOW, BAODING_SITE_GEOCODE, SENDER, T_NOW, capXml, ref } from '../helpers/cap-messages.ts';

const CAP: CapConfig = { areaCode: '410102', agencyCode: '0', sender: 'shaobing.t', geocode: '410102001203', circle: { lat: 34.75, lon: 113.65, radiusKm: 1 } };
const OPTS: CapInboxOptions = { sirenPattern: 'air_raid_alarm', repeat: 3 };
const clock = { now: T_NOW, clockTrusted: true };

class Inbox {
  st: CapInboxState;
  constructor(cap: CapConfig = CAP) {
    this.st = createCapInbox(cap);
  }
  send(xml: string | Buffer, c = clock, o = OPTS): CapDecision {
    return onCap(this.st, xml, c, o);
  }
}

const bc = (d: CapDecision): Extract<Command, { type: 'broadcast' }> & { textZh: string } => {
  const c = d.commands[0];
  // A CAP broadcast always has its words (a template broadcast may not: planner/types.ts).
  if (d.commands.length !== 1 || c?.type !== 'broadcast' || c.textZh === undefined) throw new Error(`expected one broadcast with its words, got ${JSON.stringify(d)}`);
  return c as Extract<Command, { type: 'broadcast' }> & { textZh: string };
};

describe('CAP inbox: what becomes a broadcast', () => {
  it('the Baoding example (an Update of a message this box never saw) covers a site in 130602 and plays in Chinese', () => {
    const box = new Inbox({ ...CAP, areaCode: '130602', geocode: BAODING_SITE_GEOCODE, circle: null });
    const d = box.send(BAODING, { now: BAODING_NOW, clockTrusted: true });
    const c = bc(d);
    expect(c).toMatchObject({ source: 'township', by: 'cap:Baoding_Meteorological_Observatory', priority: 'township', repeat: 3, key: 'cap:Baoding_Meteorological_Observatory:13060041600000_20240712073642' });
    // The key is that of the message it updates (its first reference), which this box never saw.
    expect(c.pattern).toBeUndefined(); // Moderate/Unknown: no siren
    expect(c.textZh).toBe('保定市气象台更新雷电黄色预警[Ⅲ级/较重]。保定市气象台2024年07月12日21时29分继续发布雷电黄色预警信号：预计今天夜间到明天早晨，保定市全部县区仍有雷阵雨天气，雷雨时局地伴有短时强降水、短时大风等强对流天气，请注意防范。1.政府及相关部门按照职责做好防雷工作； 2.密切关注天气，尽量避免户外活动。');
    expect(c.textEn).toMatch(/^Baoding Meteorological Observatory updates lightning yellow warning/);
    expect(d.log).toMatchObject({ outcome: 'broadcast', reason: 'in_area', msgType: 'Update', status: 'Actual' });
    expect(d.log.detail).toContain('geocode: 130602000000 covers 130602101203');
  });

  it('the Baoding example is out of area for a Henan site, and expired the next day', () => {
    expect(new Inbox().send(BAODING, { now: BAODING_NOW, clockTrusted: true }).log).toMatchObject({ outcome: 'ignored', reason: 'out_of_area' });
    const next = new Inbox({ ...CAP, geocode: BAODING_SITE_GEOCODE }).send(BAODING, { now: Date.parse('2024-07-13T09:00:00+08:00'), clockTrusted: true });
    expect(next.commands).toEqual([]);
    expect(next.log).toMatchObject({ outcome: 'ignored', reason: 'expired' });
  });

  it('an in-area Alert by polygon or circle alone (no geocode) plays too', () => {
    const poly = new Inbox().send(capXml({ infos: [{ geocode: null, polygon: '34.7,113.6 34.8,113.6 34.8,113.7 34.7,113.7 34.7,113.6' }] }));
    expect(poly.commands).toHaveLength(1);
    expect(poly.log.detail).toMatch(/^polygon/);
    const circ = new Inbox().send(capXml({ infos: [{ geocode: null, circle: '34.76,113.66 3' }] }));
    expect(circ.log.detail).toMatch(/^circle/);
    const far = new Inbox().send(capXml({ infos: [{ geocode: null, circle: '36.0,113.66 3' }] }));
    expect(far.log).toMatchObject({ outcome: 'ignored', reason: 'out_of_area' });
  });

  it('zh-CN preferred over other infos; the text is headline, description, instruction, bounded', () => {
    const d = new Inbox().send(capXml({ infos: [{ language: 'en-US', headline: 'Orange rainstorm warning', description: 'Heavy rain' }, { language: 'zh-CN', headline: '暴雨橙色预警', description: '强降雨', instruction: '请转移' }] }));
    expect(bc(d)).toMatchObject({ textZh: '暴雨橙色预警。强降雨。请转移。', textEn: 'Orange rainstorm warning. Heavy rain.' });
    const long = bc(new Inbox().send(capXml({ infos: [{ description: '雨'.repeat(2000) }] })));
    expect(Array.from(long.textZh)).toHaveLength(TEXT_MAX);
    expect(long.textZh.endsWith('…')).toBe(true);
  });

  it('English only: a Chinese lead-in from the CAP enums, then the original words', () => {
    const d = new Inbox().send(capXml({ infos: [{ language: 'en-US', category: 'Geo', severity: 'Extreme', headline: 'Landslide warning', description: 'Slope failure likely' }] }));
    const c = bc(d);
    expect(c.textZh).toBe(`${SENDER}发布特别严重地质灾害预警,原文为外文:Landslide warning. Slope failure likely.`);
    expect(c.textEn).toBe('Landslide warning. Slope failure likely.');
    expect(d.log.detail).toContain('spoken in en-US');
  });
});

describe('CAP inbox: priority from severity and urgency', () => {
  const table: [Severity, Urgency, string, boolean][] = [
    ['Extreme', 'Immediate', 'emergency', true],
    ['Extreme', 'Expected', 'emergency', false],
    ['Extreme', 'Unknown', 'emergency', false],
    ['Extreme', 'Past', 'routine', false],
    ['Severe', 'Immediate', 'emergency', false],
    ['Severe', 'Expected', 'township', false],
    ['Severe', 'Future', 'township', false],
    ['Moderate', 'Immediate', 'township', false],
    ['Unknown', 'Unknown', 'township', false],
    ['Minor', 'Immediate', 'routine', false],
    ['Minor', 'Expected', 'routine', false],
  ];
  it.each(table)('%s / %s → %s (siren %s)', (severity, urgency, priority, siren) => {
    expect(priorityOf(severity, urgency, 'Likely')).toEqual({ priority, siren });
    const c = bc(new Inbox().send(capXml({ infos: [{ severity, urgency }] })));
    expect(c.priority).toBe(priority);
    expect(c.pattern).toBe(siren ? 'air_raid_alarm' : undefined);
    expect(c.repeat).toBe(priority === 'routine' ? 1 : 3);
  });

  it('certainty Unlikely is routine; the loudest in-area info decides; no configured red pattern, no siren', () => {
    expect(priorityOf('Extreme', 'Immediate', 'Unlikely')).toEqual({ priority: 'routine', siren: false });
    const two = bc(new Inbox().send(capXml({ infos: [{ language: 'zh-CN', severity: 'Moderate' }, { language: 'en-US', severity: 'Extreme', urgency: 'Immediate' }] })));
    expect([two.priority, two.pattern]).toEqual(['emergency', 'air_raid_alarm']);
    const none = bc(new Inbox().send(capXml({ infos: [{ severity: 'Extreme', urgency: 'Immediate' }] }), clock, { ...OPTS, sirenPattern: null }));
    expect([none.priority, none.pattern]).toEqual(['emergency', undefined]);
  });
});

describe('CAP inbox: status', () => {
  it('Test and Draft never sound: no command at all, logged with the reason', () => {
    for (const [status, reason] of [['Test', 'test_message'], ['Draft', 'draft_message']] as const) {
      const d = new Inbox().send(capXml({ status, infos: [{ severity: 'Extreme', urgency: 'Immediate' }] }));
      expect(d.commands, status).toEqual([]);
      expect(d.log).toMatchObject({ outcome: 'ignored', reason, status });
    }
  });

  it('Exercise plays as a drill: drill priority, marked drill, 演练 first, never a siren, spoken once', () => {
    const c = bc(new Inbox().send(capXml({ status: 'Exercise', infos: [{ severity: 'Extreme', urgency: 'Immediate', headline: '溃坝演练' }] })));
    expect(c).toMatchObject({ priority: 'drill', drill: true, repeat: 1 });
    expect(c.pattern).toBeUndefined();
    expect(c.textZh.startsWith('演练:溃坝演练。')).toBe(true);
  });

  it('System, Ack and Error are not warnings', () => {
    expect(new Inbox().send(capXml({ status: 'System' })).log.reason).toBe('system_message');
    expect(new Inbox().send(capXml({ msgType: 'Ack', references: ref('x') })).log.reason).toBe('not_a_warning');
    expect(new Inbox().send(capXml({ msgType: 'Error', references: ref('x') })).log.reason).toBe('not_a_warning');
  });
});

describe('CAP inbox: Update, Cancel, duplicates, expiry', () => {
  it('an Update replaces what its references started (same key); a Cancel stops it; a second Cancel finds nothing', () => {
    const box = new Inbox();
    const first = bc(box.send(capXml({ identifier: 'a1', infos: [{ headline: '暴雨蓝色预警', severity: 'Minor' }] })));
    const upd = box.send(capXml({ identifier: 'a2', msgType: 'Update', references: ref('a1'), infos: [{ headline: '暴雨红色预警', severity: 'Extreme', urgency: 'Immediate' }] }));
    expect(upd.log).toMatchObject({ outcome: 'replaced', key: first.key });
    expect(bc(upd)).toMatchObject({ key: first.key, priority: 'emergency', pattern: 'air_raid_alarm', textZh: '暴雨红色预警。预计未来3小时内有50毫米以上降雨。' });
    // The Cancel names only the latest message (a2); the chain still leads to the key.
    const cancel = box.send(capXml({ identifier: 'a3', msgType: 'Cancel', references: ref('a2'), infos: [{ geocode: '999999' }] }));
    expect(cancel.commands).toEqual([{ type: 'broadcast_cancel', by: `cap:${SENDER}`, key: first.key }]);
    expect(cancel.log).toMatchObject({ outcome: 'cancelled', reason: 'cancel' });
    // A second Cancel: the chain is forgotten, so the keys come from its references (harmless: nothing plays).
    const again = box.send(capXml({ identifier: 'a4', msgType: 'Cancel', references: `${ref('a1')} ${ref('a2')}` }));
    expect(again.commands).toEqual([
      { type: 'broadcast_cancel', by: `cap:${SENDER}`, key: first.key },
      { type: 'broadcast_cancel', by: `cap:${SENDER}`, key: `cap:${SENDER}:a2` },
    ]);
    expect(again.log.detail).toMatch(/^chain not in memory/);
  });

  it('after a restart (an inbox that remembers nothing) a Cancel for this site still stops the chain by the key its references imply, and an Update replaces it', () => {
    const before = new Inbox();
    const key = bc(before.send(capXml({ identifier: 'r1' }))).key;
    const after = new Inbox();
    const upd = bc(after.send(capXml({ identifier: 'r2', msgType: 'Update', references: ref('r1') })));
    expect(upd.key).toBe(key);
    const fresh = new Inbox();
    const c = fresh.send(capXml({ identifier: 'r3', msgType: 'Cancel', references: `${ref('r1')} ${ref('r2')}` }));
    expect(c.commands).toEqual([
      { type: 'broadcast_cancel', by: `cap:${SENDER}`, key },
      { type: 'broadcast_cancel', by: `cap:${SENDER}`, key: `cap:${SENDER}:r2` },
    ]);
    // With no area at all it is acted on too; for another area, or without references, not.
    expect(new Inbox().send(capXml({ msgType: 'Cancel', references: ref('r1'), infos: [] })).commands).toEqual([{ type: 'broadcast_cancel', by: `cap:${SENDER}`, key }]);
    expect(new Inbox().send(capXml({ msgType: 'Cancel', references: ref('r1'), infos: [{ geocode: '420000' }] }))).toMatchObject({ commands: [], log: { outcome: 'ignored', reason: 'out_of_area' } });
    expect(new Inbox().send(capXml({ msgType: 'Cancel' })).log).toMatchObject({ outcome: 'ignored', reason: 'unknown_reference', detail: 'a Cancel without references' });
  });

  it('an Update that no longer covers the site stops what the chain started here', () => {
    const box = new Inbox();
    const key = bc(box.send(capXml({ identifier: 'b1' }))).key;
    const d = box.send(capXml({ identifier: 'b2', msgType: 'Update', references: ref('b1'), infos: [{ geocode: '420000' }] }));
    expect(d.commands).toEqual([{ type: 'broadcast_cancel', by: `cap:${SENDER}`, key }]);
    expect(d.log.reason).toBe('update_out_of_area');
  });

  it('a references triple of another sender does not reach this sender’s chain', () => {
    const box = new Inbox();
    const key = bc(box.send(capXml({ identifier: 'c1' }))).key;
    const d = box.send(capXml({ identifier: 'c2', msgType: 'Cancel', references: ref('c1', undefined, 'someone-else') }));
    expect(d.commands).toEqual([{ type: 'broadcast_cancel', by: `cap:${SENDER}`, key: 'cap:someone-else:c1' }]);
    expect(key).toBe(`cap:${SENDER}:c1`);
    // The county's chain is still known: its own Cancel finds it.
    expect(box.send(capXml({ identifier: 'c3', msgType: 'Cancel', references: ref('c1') })).log.detail).toBe(`stops ${key}`);
  });

  it('the same (sender, identifier) twice is played once (QoS 1 redelivery, a retained copy)', () => {
    const box = new Inbox();
    expect(box.send(capXml({ identifier: 'd1' })).commands).toHaveLength(1);
    const d = box.send(capXml({ identifier: 'd1' }));
    expect(d.commands).toEqual([]);
    expect(d.log).toMatchObject({ outcome: 'ignored', reason: 'duplicate' });
    // The same identifier from another sender is another message.
    expect(box.send(capXml({ identifier: 'd1', sender: 'other-county' })).commands).toHaveLength(1);
  });

  it('expired is ignored; with an untrusted clock nothing is judged expired; no expires never expires', () => {
    const late = { now: Date.parse('2026-07-20T21:00:00+08:00'), clockTrusted: true };
    expect(new Inbox().send(capXml(), late).log).toMatchObject({ outcome: 'ignored', reason: 'expired' });
    expect(new Inbox().send(capXml(), { now: 0, clockTrusted: false }).commands).toHaveLength(1);
    expect(new Inbox().send(capXml({ infos: [{ expires: null }] }), late).commands).toHaveLength(1);
  });

  it('a malformed message is rejected with the reader’s reason and changes no state', () => {
    const box = new Inbox();
    const d = box.send('<alert>');
    expect(d).toMatchObject({ commands: [], log: { outcome: 'rejected', reason: 'not_xml' } });
    expect(box.send(capXml({ infos: [{ polygon: '34.7,113.6 34.8,113.6 34.8,113.7 34.7,113.7' }] })).log.reason).toBe('unclosed_polygon');
    expect(box.send(capXml({ infos: [{ expires: '2026-07-20T07:00:00+08:00' }] })).log.reason).toBe('impossible_time');
    expect(box.st.seen.size).toBe(0);
  });

  it('an Alert or Update without info is ignored', () => {
    expect(new Inbox().send(capXml({ infos: [] })).log).toMatchObject({ outcome: 'ignored', reason: 'no_info' });
  });

  it('memory is bounded by count too: past 10,000 the oldest are forgotten first', () => {
    const box = new Inbox();
    for (let n = 0; n < 10_050; n++) box.send(capXml({ identifier: `f${n}`, infos: [{ geocode: '420000' }] }));
    box.send('junk');
    expect(box.st.seen.size).toBe(10_000);
    expect(box.st.seen.has(`${SENDER},f49`)).toBe(false);
    expect(box.st.seen.has(`${SENDER},f50`)).toBe(true);
  }, 30_000);

  it('memory is bounded: messages are forgotten a day after they expire', () => {
    const box = new Inbox();
    box.send(capXml({ identifier: 'e1' }));
    expect(box.st.seen.size).toBe(1);
    expect(box.st.chains.size).toBe(1);
    box.send('junk', { now: Date.parse('2026-07-21T20:00:01+08:00'), clockTrusted: true });
    expect(box.st.seen.size).toBe(0);
    expect(box.st.chains.size).toBe(0);
  });
});
