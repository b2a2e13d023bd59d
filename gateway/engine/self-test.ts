/**
 * Self-test faults (gateway/schedule/ runs the tests; this is where their verdicts become
 * alerts). Each speaker and siren has a `<actuator>/selftest` slot and each sensor a
 * `<sensor>/reporting` slot: a failed test raises a fault alert (level `info`, like every
 * fault: reported, never a danger alarm) with the reason in its values and sentences; the next
 * test that passes clears it. Being engine slots, they are what every other fault is: in the
 * log, on the retained alert topic and at the township, on the panel and in `report`,
 * acknowledgeable, lighting the fault indicator, kept across a restart by the core snapshot.
 */
import type { ActuatorConfig, SensorConfig } from '../config/types.ts';
import type { AlertSlot, Describe, Shown, SlotSpec, Texts } from './alert-slot.ts';
import { stepSlot } from './alert-slot.ts';
import { actuatorFaultWords } from './actuator-fault-words.ts';
import { duration } from './text.ts';
import type { AlertTransition, FaultKind } from './types.ts';

/** One verdict for one slot. */
export interface SelfTestResult {
  /** `selfTestKey(…)`: the actuator's or the sensor's self-test slot. */
  key: string;
  ok: boolean;
  /** The test that judged it (`speaker_weekly`, `siren_monthly`, `reporting_daily`): the alert's rule. */
  rule: string;
  /** The figures and the reason (`reason`: no_done, no_report, device_fault, silent_day, gap). */
  values: Record<string, number | string>;
}

export function actuatorTestKey(actuator: string): string {
  return `${actuator}/selftest`;
}

export function reportingKey(sensor: string): string {
  return `${sensor}/reporting`;
}

const SELF_TEST: FaultKind = 'self_test';
const NOT_REPORTING: FaultKind = 'not_reporting';

const ACTUATOR_WORD = { speaker: { zh: '广播', en: 'speaker' }, siren: { zh: '警报器', en: 'siren' } } as const;

function actuatorBody(kind: ActuatorConfig['kind'], name: Texts, v: Shown['values']): Texts {
  const w = ACTUATOR_WORD[kind];
  const test = kind === 'speaker' ? { zh: '例行自检', en: 'routine self-test' } : { zh: '例行试鸣', en: 'routine test sound' };
  const head = { zh: `${w.zh} ${name.zh} ${test.zh}未通过`, en: `${w.en} ${name.en} failed its ${test.en}` };
  const waited = duration(v.waited_s);
  switch (v.reason) {
    case 'no_done':
      return { zh: `${head.zh}:发出测试广播后 ${waited.zh}内未报告播放完成,请检查设备电源和网络`, en: `${head.en}: no 'done' report ${waited.en} after the test broadcast was sent; check its power and network` };
    case 'no_report':
      return { zh: `${head.zh}:发出试鸣后 ${waited.zh}内设备无任何回报,请检查设备电源和网络`, en: `${head.en}: no report ${waited.en} after the test sound was sent; check its power and network` };
    default: {
      // The detail starts with the driver's reason (`relay_did_not_follow wanted=true …`): said in words, the figures stay in the values.
      const reason = typeof v.detail === 'string' ? v.detail.split(' ', 1)[0]! : '';
      const w = reason ? actuatorFaultWords(reason) : null;
      if (w && w.zh !== reason) return { zh: `${head.zh}:${w.zh}`, en: `${head.en}: ${w.en}` };
      return { zh: `${head.zh}:设备报告故障(${v.detail ?? '无详情'})`, en: `${head.en}: the device reported a fault (${v.detail ?? 'no detail'})` };
    }
  }
}

function reportingBody(name: Texts, v: Shown['values']): Texts {
  const head = { zh: `传感器 ${name.zh} 日常上报检查未通过`, en: `sensor ${name.en} failed the daily reporting check` };
  if (v.reason === 'silent_day') return { zh: `${head.zh}:过去 24 小时无任何数据`, en: `${head.en}: no data at all in 24 h` };
  const [longest, window, interval, allowed] = [duration(v.longest_silent_s), duration(v.window_s), duration(v.interval_s), duration(v.allowed_s)];
  return {
    zh: `${head.zh}:过去 ${window.zh}内最长 ${longest.zh}无数据(上报间隔 ${interval.zh},最多允许 ${allowed.zh})`,
    en: `${head.en}: silent for ${longest.en} in the last ${window.en} (it reports every ${interval.en}; ${allowed.en} allowed)`,
  };
}

function describe(body: (v: Shown['values']) => Texts, passed: Texts): Describe {
  return (shown, t) => {
    if (t === 'cleared') return { zh: `故障已恢复:${passed.zh}`, en: `Fault cleared: ${passed.en}` };
    const b = body(shown.values);
    if (t === 'acknowledged') return { zh: `故障已确认:${b.zh}`, en: `Fault acknowledged: ${b.en}` };
    return { zh: `故障:${b.zh}`, en: `Fault: ${b.en}` };
  };
}

/** The self-test slot specs of a site: every speaker and siren, then every sensor, in config order. */
export function selfTestSlotSpecs(actuators: readonly ActuatorConfig[], sensors: readonly SensorConfig[]): SlotSpec[] {
  const fault = { kind: 'fault' as const, raiseAfterS: 0, clearAfterS: 0 };
  const specs: SlotSpec[] = actuators.map((a) => {
    const name = { zh: a.name, en: a.name };
    const w = ACTUATOR_WORD[a.kind];
    const passed = a.kind === 'speaker' ? { zh: `${w.zh} ${name.zh} 例行自检通过`, en: `${w.en} ${name.en} passed its routine self-test` } : { zh: `${w.zh} ${name.zh} 例行试鸣通过`, en: `${w.en} ${name.en} passed its routine test sound` };
    return { ...fault, key: actuatorTestKey(a.id), zone: a.zones[0]!, sensors: [], describe: describe((v) => actuatorBody(a.kind, name, v), passed) };
  });
  for (const s of sensors) {
    const name = { zh: s.name, en: s.nameEn };
    specs.push({ ...fault, key: reportingKey(s.id), zone: s.zone, sensors: [s.id], describe: describe((v) => reportingBody(name, v), { zh: `传感器 ${name.zh} 日常上报检查通过`, en: `sensor ${name.en} passed the daily reporting check` }) });
  }
  return specs;
}

/**
 * Applies verdicts: a failure raises (or keeps, with the new figures) the slot's fault, a pass
 * clears it. A result for a slot the site does not have is returned, not applied.
 */
export function applySelfTests(slots: ReadonlyMap<string, AlertSlot>, results: readonly SelfTestResult[], now: number, out: AlertTransition[]): SelfTestResult[] {
  const unknown: SelfTestResult[] = [];
  for (const r of results) {
    const slot = slots.get(r.key);
    if (!slot) {
      unknown.push(r);
      continue;
    }
    const fault = slot.key.endsWith('/reporting') ? NOT_REPORTING : SELF_TEST;
    stepSlot(slot, r.ok ? { level: null, rule: r.rule, values: r.values } : { level: 'info', rule: r.rule, values: r.values, facts: { fault } }, now, out);
  }
  return unknown;
}
