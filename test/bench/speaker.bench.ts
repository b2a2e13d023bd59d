/**
 * Pre-emption of a broadcast on a speaker the box plays itself (drivers/speaker/): the target
 * is the new sound started and the old one stopped within 200 ms of the planner's decision.
 * A real box (Modbus TCP relay board simulated, the amplifier on coil 1, the panel) plays an
 * officer's routine broadcast; a second later an officer's emergency broadcast pre-empts it.
 * Measured from the planner's `broadcast_stop` reaching the bus: `stop_ms` until the old
 * playback has stopped (aplay killed and reaped / the WAV closed at what was heard), `start_ms`
 * until the new chime's first 100 ms were handed to the sink. Sinks: the WAV file, and aplay on
 * ALSA's null device (a real aplay process; no sound card here).
 * Run: `npm run bench -- speaker [rounds per sink, default 20]`.
 */
import type { SpeakerActivity } from '../../drivers/speaker/local-speakers.ts';
import { startSpeakerRig } from '../helpers/speaker-rig.ts';
import { until } from '../helpers/until.ts';
import { percentile } from './bench-site.ts';

const ROUNDS = Number(process.argv[2] ?? 20);

async function run(sink: 'file' | 'alsa-null'): Promise<Record<string, number | string>> {
  const audio = sink === 'file' ? `sink: file, folder: '\${folder}'` : `sink: alsa, device: 'null'`;
  const rig = await startSpeakerRig(`  - { id: spk1, kind: speaker, zones: [site], audio: { ${audio}, amp: { bus: net1, unit: 1, profile: waveshare-modbus-rtu-relay, coil: 1 } } }`);
  const find = (activity: string, event: SpeakerActivity['event']) => rig.activities.find((a) => a.activity === activity && a.event === event);
  const stops: number[] = [];
  const starts: number[] = [];
  try {
    for (let i = 0; i < ROUNDS; i++) {
      const from = rig.effects.length;
      await rig.command({ type: 'broadcast', text_zh: `第 ${i + 1} 次例行通知:今天 14:00 停电检修,预计 2 小时。`, repeat: 2 });
      const routine = await until('the routine broadcast', () => rig.effects.slice(from).find((x) => x.e.type === 'broadcast'));
      const a1 = (routine.e as { activity: string }).activity;
      await until('it playing', () => find(a1, 'started'));
      await new Promise((r) => setTimeout(r, 1000));
      await rig.command({ type: 'broadcast', text_zh: '紧急通知:请立即撤离到村委会避难所。', emergency: true, repeat: 1 });
      const stop = await until('the stop', () => rig.effects.slice(from).find((x) => x.e.type === 'broadcast_stop' && x.e.activity === a1));
      const urgent = await until('the emergency broadcast', () => rig.effects.slice(from).find((x) => x.e.type === 'broadcast' && x.e.priority === 'emergency'));
      const a2 = (urgent.e as { activity: string }).activity;
      const stopped = await until('the routine stopped', () => find(a1, 'stopped'));
      const started = await until('the emergency started', () => find(a2, 'started'));
      stops.push(stopped.at - stop.at);
      starts.push(started.at - stop.at);
      await rig.command({ type: 'stop' });
      await until('all stopped', () => find(a2, 'stopped'));
    }
  } finally {
    await rig.stop();
  }
  const s = Float64Array.from(stops).sort();
  const t = Float64Array.from(starts).sort();
  const r = (x: number): number => Math.round(x * 10) / 10;
  const out = { sink, rounds: ROUNDS, stop_ms_p50: r(percentile(s, 0.5)), stop_ms_p90: r(percentile(s, 0.9)), stop_ms_max: r(s[s.length - 1]!), start_ms_p50: r(percentile(t, 0.5)), start_ms_p90: r(percentile(t, 0.9)), start_ms_max: r(t[t.length - 1]!), within_200ms: starts.filter((x, i) => x <= 200 && stops[i]! <= 200).length };
  console.log(`${sink}: the old broadcast stopped in p50 ${out.stop_ms_p50} ms (max ${out.stop_ms_max}), the new one started in p50 ${out.start_ms_p50} ms (max ${out.start_ms_max}); ${out.within_200ms}/${ROUNDS} rounds within 200 ms`);
  return out;
}

const file = await run('file');
const alsa = await run('alsa-null');
const json: Record<string, number | string> = { bench: 'speaker' };
for (const [k, v] of Object.entries(file)) if (k !== 'sink') json[`file_${k}`] = v;
for (const [k, v] of Object.entries(alsa)) if (k !== 'sink' && k !== 'rounds') json[`alsa_null_${k}`] = v;
console.log(JSON.stringify(json));
process.exit(0);
