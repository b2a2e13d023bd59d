/**
 * engine/self-test.ts through the core: self-test verdicts raise and clear fault alerts with the
 * reason in words and figures, light the fault indicator, can be acknowledged, and are kept by
 * the core snapshot across a restart.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CapIdentifiers, transitionToCap } from '../../gateway/cap/cap-xml.ts';
import { createCore, step } from '../../gateway/core.ts';
import { parseSnapshot, pristineOf, restorePlanner, restoreSlots, SNAPSHOT_VERSION, takeSnapshot } from '../../gateway/core-snapshot.ts';
import { activeAlerts } from '../../gateway/engine/evaluate.ts';
import { actuatorTestKey, reportingKey, type SelfTestResult } from '../../gateway/engine/self-test.ts';
import { T0, site } from '../helpers/site.ts';

const cfg = site(`
site: { id: t, name: 测试村, name_en: Testville }
zones: [{ id: b3, name: 3号楼 }]
sensors:
  - { id: rg1, kind: rain, name: 村口雨量计, name_en: gate rain gauge }
  - { id: sm1, kind: smoke, zone: b3, name: 一层烟感, name_en: ground floor detector }
actuators:
  - { id: spk1, kind: speaker, name: 村广播, zones: [site] }
  - { id: siren1, kind: siren, name: 村口警报器, zones: [b3] }
`);

const spkFailed: SelfTestResult = { key: actuatorTestKey('spk1'), ok: false, rule: 'speaker_weekly', values: { reason: 'no_done', waited_s: 60 } };

describe('self-test faults', () => {
  it('each speaker and siren has a selftest slot, each sensor a reporting slot, after the sensors\' own', () => {
    const core = createCore(cfg, T0);
    const keys = core.engine.slots.map((s) => s.key);
    expect(keys.slice(-4)).toEqual(['spk1/selftest', 'siren1/selftest', 'rg1/reporting', 'sm1/reporting']);
    expect([...core.engine.selfTests.keys()]).toEqual(['spk1/selftest', 'siren1/selftest', 'rg1/reporting', 'sm1/reporting']);
  });

  it('a failed speaker test raises a fault alert with the reason, and lights the fault indicator', () => {
    const core = createCore(cfg, T0);
    const out = step(core, { type: 'selftest', results: [spkFailed] }, T0);
    expect(out.transitions).toEqual([
      expect.objectContaining({
        transition: 'raised',
        alert: `spk1/selftest/${T0}`,
        kind: 'fault',
        level: 'info',
        zone: 'site',
        sensors: [],
        rule: 'speaker_weekly',
        fault: 'self_test',
        values: { reason: 'no_done', waited_s: 60 },
        textZh: '故障:广播 村广播 例行自检未通过:发出测试广播后 60 秒内未报告播放完成,请检查设备电源和网络',
        textEn: "Fault: speaker 村广播 failed its routine self-test: no 'done' report 60 s after the test broadcast was sent; check its power and network",
      }),
    ]);
    expect(out.effects).toContainEqual(expect.objectContaining({ type: 'indicator', indicator: 'fault', state: 'on' }));
    expect(activeAlerts(core.engine)).toEqual([expect.objectContaining({ alert: `spk1/selftest/${T0}`, kind: 'fault' })]);
  });

  it('failing again keeps the one alert (new figures, no new transition); passing clears it', () => {
    const core = createCore(cfg, T0);
    step(core, { type: 'selftest', results: [spkFailed] }, T0);
    expect(step(core, { type: 'selftest', results: [{ ...spkFailed, values: { reason: 'device_fault', detail: 'amp' } }] }, T0 + 1000).transitions).toEqual([]);
    expect(core.engine.selfTests.get('spk1/selftest')!.active!.values).toEqual({ reason: 'device_fault', detail: 'amp' });
    const cleared = step(core, { type: 'selftest', results: [{ key: 'spk1/selftest', ok: true, rule: 'speaker_weekly', values: {} }] }, T0 + 2000);
    expect(cleared.transitions).toEqual([expect.objectContaining({ transition: 'cleared', alert: `spk1/selftest/${T0}`, textZh: '故障已恢复:广播 村广播 例行自检通过', textEn: 'Fault cleared: speaker 村广播 passed its routine self-test' })]);
    expect(cleared.effects).toContainEqual(expect.objectContaining({ type: 'indicator', indicator: 'fault', state: 'off' }));
  });

  it('a pass with nothing raised says nothing', () => {
    const core = createCore(cfg, T0);
    expect(step(core, { type: 'selftest', results: [{ key: 'rg1/reporting', ok: true, rule: 'reporting_daily', values: { interval_s: 60 } }] }, T0).transitions).toEqual([]);
  });

  it.each([
    [{ reason: 'device_fault', detail: 'relay_did_not_follow wanted=true read_back=false' }, '故障:警报器 村口警报器 例行试鸣未通过:继电器没有按指令动作', 'Fault: siren 村口警报器 failed its routine test sound: the relay did not follow the command'],
    [{ reason: 'device_fault', detail: 'odd_vendor_code 7' }, '故障:警报器 村口警报器 例行试鸣未通过:设备报告故障(odd_vendor_code 7)', 'Fault: siren 村口警报器 failed its routine test sound: the device reported a fault (odd_vendor_code 7)'],
    [{ reason: 'no_report', waited_s: 63 }, '故障:警报器 村口警报器 例行试鸣未通过:发出试鸣后 63 秒内设备无任何回报,请检查设备电源和网络', 'Fault: siren 村口警报器 failed its routine test sound: no report 63 s after the test sound was sent; check its power and network'],
  ])('siren sentences: %j', (values, zh, en) => {
    const core = createCore(cfg, T0);
    const [t] = step(core, { type: 'selftest', results: [{ key: 'siren1/selftest', ok: false, rule: 'siren_monthly', values }] }, T0).transitions;
    expect([t!.zone, t!.textZh, t!.textEn]).toEqual(['b3', zh, en]);
  });

  it.each([
    [{ reason: 'silent_day', interval_s: 30, allowed_s: 90, longest_silent_s: 86400, reported_minutes: 0, window_s: 86400 }, '故障:传感器 一层烟感 日常上报检查未通过:过去 24 小时无任何数据', 'Fault: sensor ground floor detector failed the daily reporting check: no data at all in 24 h'],
    [
      { reason: 'gap', interval_s: 30, allowed_s: 90, longest_silent_s: 11_520, reported_minutes: 1200, window_s: 86400 },
      '故障:传感器 一层烟感 日常上报检查未通过:过去 24.0 小时内最长 3.2 小时无数据(上报间隔 30 秒,最多允许 90 秒)',
      'Fault: sensor ground floor detector failed the daily reporting check: silent for 3.2 h in the last 24.0 h (it reports every 30 s; 90 s allowed)',
    ],
  ])('reporting sentences: %j', (values, zh, en) => {
    const core = createCore(cfg, T0);
    const [t] = step(core, { type: 'selftest', results: [{ key: reportingKey('sm1'), ok: false, rule: 'reporting_daily', values }] }, T0).transitions;
    expect([t!.fault, t!.sensors, t!.zone, t!.textZh, t!.textEn]).toEqual(['not_reporting', ['sm1'], 'b3', zh, en]);
  });

  it('can be acknowledged like any fault', () => {
    const core = createCore(cfg, T0);
    const [raised] = step(core, { type: 'selftest', results: [spkFailed] }, T0).transitions;
    const ack = step(core, { type: 'ack', alert: raised!.alert, by: 'wang' }, T0 + 1000).transitions;
    expect(ack).toEqual([expect.objectContaining({ transition: 'acknowledged', acknowledgedBy: 'wang', textZh: expect.stringMatching(/^故障已确认:广播 村广播 例行自检未通过/) })]);
  });

  it('is kept by the core snapshot: a restarted box still has the fault, and clears it when the speaker passes', () => {
    const core = createCore(cfg, T0);
    step(core, { type: 'selftest', results: [spkFailed] }, T0);
    const snap = parseSnapshot(SNAPSHOT_VERSION, JSON.stringify(takeSnapshot(core, pristineOf(createCore(cfg, T0)), T0 + 5000, T0 + 5000)));
    const again = createCore(cfg, T0 + 60_000);
    expect([restoreSlots(again, snap), restorePlanner(again, snap)]).toEqual([[], []]);
    expect(activeAlerts(again.engine)).toEqual([expect.objectContaining({ alert: `spk1/selftest/${T0}` })]);
    expect(step(again, { type: 'selftest', results: [{ key: 'spk1/selftest', ok: true, rule: 'speaker_weekly', values: {} }] }, T0 + 70_000).transitions).toEqual([expect.objectContaining({ transition: 'cleared' })]);
  });

  it('exports as CAP 1.2 like any fault (status System), valid against the OASIS schema, raised and cleared', () => {
    const xsd = fileURLToPath(new URL('../../../shared/standards/cap/CAP-v1.2.xsd', import.meta.url));
    expect(existsSync(xsd)).toBe(true);
    const dir = mkdtempSync(join(tmpdir(), 'sb-selftest-cap-'));
    try {
      const core = createCore(cfg, T0);
      const ids = new CapIdentifiers(cfg);
      const [raised] = step(core, { type: 'selftest', results: [spkFailed, { key: reportingKey('sm1'), ok: false, rule: 'reporting_daily', values: { reason: 'silent_day', interval_s: 30 } }] }, T0).transitions;
      const [cleared] = step(core, { type: 'selftest', results: [{ key: 'spk1/selftest', ok: true, rule: 'speaker_weekly', values: {} }] }, T0 + 60_000).transitions;
      for (const [i, t] of [raised!, cleared!].entries()) {
        const m = transitionToCap(t, { config: cfg, references: [] }, ids.next(t.at));
        const file = join(dir, `m${i}.xml`);
        writeFileSync(file, m.xml);
        const r = spawnSync('xmllint', ['--noout', '--schema', xsd, file], { encoding: 'utf8' });
        expect(`${r.stdout}${r.stderr}`, m.xml).toContain('validates');
        expect(m.xml).toContain('<status>System</status>');
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
