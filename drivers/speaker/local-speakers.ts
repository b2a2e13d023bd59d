/**
 * Speakers the box plays itself (config `actuators[].audio`): the planner's `broadcast` and
 * `broadcast_stop` effects for each such speaker are rendered (render.ts), paced to its sink
 * (playback.ts: aplay or a WAV file), with the zone's amplifier relay switched around them
 * (amp-relay.ts). Like an MQTT speaker, each reports back through the bus: `done` when a
 * broadcast has been heard to its end (which frees the planner's channel), `fault` when one
 * could not be played (with its activity: it ended; the siren of an alarm is another actuator
 * and sounds regardless) or when something is wrong that did not stop it (no activity: a
 * recording that fell back to TTS, an amplifier relay that did not follow).
 *
 * A new broadcast replaces the one playing at once: aplay is killed (or the file closed at what
 * was heard) and the new chime starts, with the amplifier left on between them. The time each
 * took is logged (`stop_ms`, `start_ms`); test/bench/speaker.bench.ts measures it.
 */
import { mkdir, readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { ActuatorConfig, SpeakerAudio } from '../../gateway/config/types.ts';
import type { Effect } from '../../gateway/planner/types.ts';
import type { ActuatorReport } from '../../gateway/shell/bus.ts';
import type { BoxContext, Module } from '../../gateway/shell/module.ts';
import { offsetMinutes } from '../../gateway/wire.ts';
import type { BusScheduler } from '../modbus/bus-scheduler.ts';
import type { DeviceProfile } from '../modbus/profile-types.ts';
import { AmpRelay, type AmpFault } from './amp-relay.ts';
import { SpeakerError } from './errors.ts';
import { Playback, type Writer } from './playback.ts';
import { decodeRecording } from './recording.ts';
import { renderParts } from './render.ts';
import { AplayWriter, FileWriter, hasSoundCard } from './sinks.ts';

type BroadcastEffect = Extract<Effect, { type: 'broadcast' }>;
type StopEffect = Extract<Effect, { type: 'broadcast_stop' }>;

/** The amplifier is given this long to switch on before the chime plays anyway. */
const AMP_WAIT_MS = 1000;
/** After a broadcast the amplifier stays on this long, so one that follows at once never blips it. */
const AMP_HOLD_MS = 300;

/** What a speaker did, when (`performance.now()`), for logs, tests and the bench. */
export interface SpeakerActivity {
  actuator: string;
  activity: string;
  event: 'started' | 'stopped' | 'done' | 'failed';
  at: number;
  /** The WAV of a file sink. */
  path?: string;
  error?: SpeakerError;
}

interface Session {
  activity: string;
  zone: string;
  /** When its effect arrived. */
  since: number;
  playback: Playback | null;
  path?: string;
}

export class LocalSpeakers implements Module {
  readonly name = 'speakers';
  private readonly speakers: LocalSpeaker[] = [];
  private readonly listeners = new Set<(a: SpeakerActivity) => void>();
  private off: (() => void) | null = null;
  private readonly log: Logger;

  /** Throws (the box does not start) for an amplifier relay whose profile does not exist, as a siren's does. */
  constructor(private readonly ctx: BoxContext, profiles: Map<string, DeviceProfile>, schedulers: () => Map<string, BusScheduler> | undefined) {
    this.log = ctx.log.child({ module: 'speakers' });
    const monitorOk = hasSoundCard();
    for (const a of ctx.config.actuators) {
      if (!a.audio) continue;
      let amp: AmpRelay | null = null;
      if (a.audio.amp) {
        const { bus, unit, profile, coil } = a.audio.amp;
        const p = profiles.get(profile);
        if (!p) throw new Error(`actuator ${a.id}: audio.amp: unknown device profile '${profile}' (known: ${[...profiles.keys()].join(', ')})`);
        amp = new AmpRelay(() => schedulers()?.get(bus), unit, p, coil, (f) => this.ampFault(a, f));
      }
      this.speakers.push(new LocalSpeaker(ctx, a, a.audio, amp, monitorOk, this.log.child({ actuator: a.id }), (x) => this.tell(x)));
    }
  }

  /** Calls `cb` with every speaker activity; returns the unsubscribe. */
  onActivity(cb: (a: SpeakerActivity) => void): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  async start(): Promise<void> {
    for (const s of this.speakers) await s.prepare();
    await this.checkRecordings();
    this.off = this.ctx.bus.on('effect', (e) => {
      if (e.type !== 'broadcast' && e.type !== 'broadcast_stop') return;
      const s = this.speakers.find((x) => x.id === e.actuator);
      if (!s) return;
      // play() reports its own failures; this catch is for a bug, which must not take the box down.
      if (e.type === 'broadcast') s.play(e).catch((err: unknown) => this.log.error({ err, activity: e.activity }, `speaker ${s.id}: broadcast failed unexpectedly`));
      else s.stopActivity(e);
    });
  }

  async stop(): Promise<void> {
    this.off?.();
    this.off = null;
    await Promise.all(this.speakers.map((s) => s.shutdown()));
  }

  private tell(a: SpeakerActivity): void {
    for (const cb of this.listeners) {
      try {
        cb(a);
      } catch (err) {
        this.log.error({ err }, 'speaker activity listener failed');
      }
    }
  }

  /** A recording named in the config that cannot be decoded is a fault now, not at the alarm. */
  private async checkRecordings(): Promise<void> {
    for (const [template, r] of Object.entries(this.ctx.config.audio.recordings)) {
      for (const file of [r.zh, r.en]) {
        if (!file) continue;
        try {
          await decodeRecording(file);
        } catch (err) {
          const e = err as SpeakerError;
          this.log.error({ template, file, err: e }, `recording for template ${template} cannot be played (${e.message}); its broadcasts will be spoken by text-to-speech`);
          for (const s of this.speakers) report(this.ctx, { actuator: s.id, report: 'fault', detail: { reason: 'recording_failed', template, file, message: e.message } });
        }
      }
    }
  }

  private ampFault(a: ActuatorConfig, f: AmpFault): void {
    this.log.error({ actuator: a.id, ...f }, `amplifier relay of ${a.id}: ${f.reason}`);
    report(this.ctx, { actuator: a.id, report: 'fault', detail: { ...f, reason: `amp_${f.reason}` } });
  }
}

function report(ctx: BoxContext, r: ActuatorReport): void {
  ctx.bus.emit('actuatorReport', r);
}

/** `20260720-140512.345` in the site's local time: WAV names sort by when they played. */
function stamp(wallMs: number, utcOffset: string): string {
  const d = new Date(wallMs + offsetMinutes(utcOffset) * 60_000).toISOString();
  return `${d.slice(0, 10).replace(/-/g, '')}-${d.slice(11, 19).replace(/:/g, '')}.${d.slice(20, 23)}`;
}

class LocalSpeaker {
  readonly id: string;
  private current: Session | null = null;
  private ampOff: NodeJS.Timeout | null = null;
  /** The last stop, for the log line of a broadcast that replaces it at once. */
  private lastStop: { activity: string; at: number; done: Promise<number> } | null = null;

  constructor(
    private readonly ctx: BoxContext,
    a: ActuatorConfig,
    private readonly audio: SpeakerAudio,
    private readonly amp: AmpRelay | null,
    private readonly monitorOk: boolean,
    private readonly log: Logger,
    private readonly tell: (a: SpeakerActivity) => void,
  ) {
    this.id = a.id;
  }

  async prepare(): Promise<void> {
    if (this.audio.sink !== 'file') return;
    await mkdir(this.audio.folder, { recursive: true }).catch((err: NodeJS.ErrnoException) => {
      this.log.error({ err, folder: this.audio.folder }, `speaker ${this.id}: its WAV folder cannot be made; broadcasts will fail`);
    });
    const monitor = this.audio.monitor && this.monitorOk ? ` and played on ${this.audio.monitor}` : '';
    this.log.info({ folder: this.audio.folder, monitor: this.audio.monitor, sound_card: this.monitorOk }, `speaker ${this.id}: broadcasts are written as WAV files to ${this.audio.folder}/${monitor}`);
  }

  /** Plays `e` now, in place of whatever plays. */
  async play(e: BroadcastEffect): Promise<void> {
    const since = performance.now();
    const prev = this.current;
    if (prev) this.halt(prev, since);
    const s: Session = { activity: e.activity, zone: e.zone, since, playback: null };
    this.current = s;
    if (this.ampOff) clearTimeout(this.ampOff);
    this.ampOff = null;
    // Speech is made once the chime plays (or in a moment, if it cannot start): see RenderOptions.after.
    let chimeStarted!: () => void;
    const after = new Promise<void>((r) => (chimeStarted = r));
    const gateTimer = setTimeout(chimeStarted, 100);
    const job = renderParts(e, this.ctx.config, { english: this.audio.english, after });
    void job.fallbacks.then((list) => {
      for (const f of list) {
        this.log.error({ activity: e.activity, ...f }, `speaker ${this.id}: recording for template ${f.template} failed (${f.message}); spoken by text-to-speech instead`);
        report(this.ctx, { actuator: this.id, report: 'fault', detail: { reason: 'recording_failed', template: f.template, file: f.file, message: f.message } });
      }
    });
    if (this.amp && !this.amp.isOn()) await Promise.race([this.amp.set(true), new Promise((r) => setTimeout(r, AMP_WAIT_MS).unref())]);
    if (this.current !== s) return; // replaced while the amplifier switched on
    let writers: Writer[];
    try {
      writers = await this.writers(s);
    } catch (err) {
      return this.failed(s, err);
    }
    if (this.current !== s) {
      await Promise.all(writers.map((w) => w.abort(0).catch(() => undefined)));
      return;
    }
    const pb = new Playback(writers, (w, err) => this.log.warn({ err, writer: w.name }, `speaker ${this.id}: ${w.name} failed; the WAV goes on`));
    s.playback = pb;
    void pb.started().then((at) => {
      clearTimeout(gateTimer);
      setImmediate(chimeStarted);
      this.startedLog(e, s, at);
    });
    try {
      const r = await pb.play(job.parts);
      if (r.stopped || this.current !== s) return;
      this.current = null;
      this.ampOffSoon();
      this.tell({ actuator: this.id, activity: s.activity, event: 'done', at: performance.now(), path: s.path });
      this.log.info({ activity: s.activity, played_s: round(r.playedS), path: s.path }, `speaker ${this.id}: broadcast ${s.activity} played to its end (${round(r.playedS)} s)`);
      report(this.ctx, { actuator: this.id, report: 'done', activity: s.activity, zone: s.zone, detail: { played_s: round(r.playedS), ...(s.path ? { path: s.path } : {}) } });
    } catch (err) {
      if (this.current !== s) return;
      this.failed(s, err);
    }
  }

  /** The planner ended `e.activity` (pre-empted, stopped, cleared); an older activity's stop is ignored. */
  stopActivity(e: StopEffect): void {
    const s = this.current;
    if (!s || s.activity !== e.activity) return;
    this.halt(s, performance.now());
    this.ampOffSoon();
  }

  async shutdown(): Promise<void> {
    const s = this.current;
    if (s) this.halt(s, performance.now());
    await this.lastStop?.done;
    if (this.ampOff) clearTimeout(this.ampOff);
    this.ampOff = null;
    if (this.amp) {
      this.amp.stop();
      await Promise.race([this.amp.set(false), new Promise((r) => setTimeout(r, AMP_WAIT_MS).unref())]);
      this.amp.stop();
    }
  }

  private halt(s: Session, at: number): void {
    if (this.current === s) this.current = null;
    const done = (s.playback?.stop() ?? Promise.resolve()).then(() => {
      const now = performance.now();
      this.tell({ actuator: this.id, activity: s.activity, event: 'stopped', at: now, path: s.path });
      return now - at;
    });
    this.lastStop = { activity: s.activity, at, done };
  }

  private async writers(s: Session): Promise<Writer[]> {
    if (this.audio.sink === 'alsa') return [new AplayWriter(this.audio.device)];
    s.path = join(this.audio.folder, `${stamp(this.ctx.clock.wall(), this.ctx.config.site.utcOffset)}-${this.id}-${s.activity}.wav`);
    const file = new FileWriter(s.path);
    await file.ready();
    void this.prune();
    return this.audio.monitor && this.monitorOk ? [file, new AplayWriter(this.audio.monitor, false)] : [file];
  }

  /** Deletes this speaker's oldest WAVs beyond `audio.keep` (names sort by time); a failure is only logged. */
  private async prune(): Promise<void> {
    try {
      const mine = new RegExp(`^\\d{8}-\\d{6}\\.\\d{3}-${this.id}-.+\\.wav$`);
      const files = (await readdir(this.audio.folder)).filter((f) => mine.test(f)).sort();
      for (const f of files.slice(0, Math.max(0, files.length - this.audio.keep))) await unlink(join(this.audio.folder, f));
    } catch (err) {
      this.log.warn({ err, folder: this.audio.folder }, `speaker ${this.id}: old WAVs could not be deleted`);
    }
  }

  private startedLog(e: BroadcastEffect, s: Session, at: number): void {
    this.tell({ actuator: this.id, activity: s.activity, event: 'started', at, path: s.path });
    const stop = this.lastStop && this.lastStop.activity !== s.activity && s.since - this.lastStop.at < 1000 ? this.lastStop : null;
    const where = s.path ? `, written to ${s.path}` : ` on ${this.audio.device}`;
    const text = e.textZh.length > 40 ? `${e.textZh.slice(0, 40)}…` : e.textZh;
    const fields = { activity: s.activity, zone: s.zone, priority: e.priority, by: e.by, drill: e.drill, repeat: e.repeat, template: e.template, path: s.path, start_ms: round(at - s.since) };
    if (!stop) {
      this.log.info(fields, `speaker ${this.id}: 🔔 broadcasting "${text}" ×${e.repeat}${where}`);
      return;
    }
    void stop.done.then((stopMs) =>
      this.log.info({ ...fields, replaced: stop.activity, stop_ms: round(stopMs), switch_ms: round(at - stop.at) }, `speaker ${this.id}: 🔔 broadcasting "${text}" ×${e.repeat}${where}; ${stop.activity} stopped in ${round(stopMs)} ms, this one started ${round(at - stop.at)} ms after its stop`),
    );
  }

  private failed(s: Session, err: unknown): void {
    if (this.current === s) this.current = null;
    this.ampOffSoon();
    const e = err instanceof SpeakerError ? err : new SpeakerError('playback_failed', String(err));
    this.tell({ actuator: this.id, activity: s.activity, event: 'failed', at: performance.now(), path: s.path, error: e });
    this.log.error({ activity: s.activity, reason: e.code, err: e }, `speaker ${this.id}: broadcast ${s.activity} could not be played (${e.message}); sirens are not affected`);
    report(this.ctx, { actuator: this.id, report: 'fault', activity: s.activity, zone: s.zone, detail: { reason: e.code, message: e.message, ...e.detail } });
  }

  private ampOffSoon(): void {
    if (!this.amp || this.ampOff) return;
    this.ampOff = setTimeout(() => {
      this.ampOff = null;
      if (!this.current) void this.amp!.set(false);
    }, AMP_HOLD_MS);
    this.ampOff.unref();
  }
}

function round(x: number): number {
  return Math.round(x * 10) / 10;
}
