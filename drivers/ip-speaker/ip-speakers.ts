/**
 * IP speakers (issue 18): networked speakers that take the box's MQTT commands but have no
 * audio of the box's own. For each broadcast to such a speaker the box renders the broadcast
 * once (drivers/speaker/render.ts: chime, then the message `repeat` times, as a local speaker
 * would play it), serves it on its own HTTP listener (audio-server.ts), and the router adds
 * `audio: {url, format, expires_at}` to the speaker's `cmd/<id>` command next to the text
 * (shell/actuators.ts calls `audioFor`). The command never waits for the render: it leaves at
 * once, and the speaker's fetch waits for the file. When rendering fails the text still went
 * out: the fetch answers 503 and the speaker speaks `text_zh` with its own TTS.
 *
 * An MQTT speaker is a speaker actuator without `modbus` and without `audio` (those the box
 * plays itself).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { ActuatorConfig, IpSpeakersConfig } from '../../gateway/config/types.ts';
import type { Effect } from '../../gateway/planner/types.ts';
import type { ActuatorReport } from '../../gateway/shell/bus.ts';
import type { BoxContext, Module } from '../../gateway/shell/module.ts';
import { wallTime } from '../../gateway/wire.ts';
import { renderBroadcast } from '../speaker/render.ts';
import { AudioServer } from './audio-server.ts';
import { Clips, type Clip, type ClipResult, type RenderFn } from './clips.ts';
import { Grants } from './grants.ts';

/** What the router adds to a broadcast command for an IP speaker (snake_case: it goes on the wire as it is). */
export interface AudioRef {
  url: string;
  format: 'wav';
  /** Wall time with the site's offset: after it the URL answers 401 (`token_expired`). */
  expires_at: string;
}

/** The URL host for a listener on `host`: that address, or the box's first LAN IPv4 when it listens on every interface. */
export function urlHostFor(host: string, interfaces = networkInterfaces()): string {
  if (host !== '0.0.0.0' && host !== '::' && host !== '') return host;
  for (const list of Object.values(interfaces)) for (const i of list ?? []) if (i.family === 'IPv4' && !i.internal) return i.address;
  return '127.0.0.1';
}

function bracketed(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

export class IpSpeakers implements Module {
  readonly name = 'ip-speakers';
  private readonly log: Logger;
  private readonly grants = new Grants();
  private server: AudioServer | null = null;
  private clips: Clips | null = null;
  private dir: string | null = null;
  private base = '';
  private boundPort = 0;
  private offs: (() => void)[] = [];
  private readonly speakers: Set<string>;

  /** `render`: how a broadcast becomes a WAV file (default: the speaker renderer with the site's audio config). */
  constructor(
    private readonly ctx: BoxContext,
    private readonly cfg: IpSpeakersConfig,
    private readonly render: RenderFn = (b, path) => renderBroadcast(b, { audio: ctx.config.audio }, { path, english: cfg.english }),
  ) {
    this.log = ctx.log.child({ module: 'ip-speakers' });
    this.speakers = new Set(ctx.config.actuators.filter((a) => isIpSpeaker(a)).map((a) => a.id));
  }

  get port(): number {
    return this.boundPort;
  }

  /** The clip a URL names, for tests and the log. */
  clip(id: string): Clip | undefined {
    return this.clips?.byId(id);
  }

  async start(): Promise<void> {
    const dir = await mkdtemp(join(tmpdir(), `shaobing-ip-audio-${this.ctx.config.site.id}-`));
    const clips = new Clips(dir, this.render, (c, r) => this.rendered(c, r));
    const server = new AudioServer({
      check: (clip, token) => this.grants.check(clip, token, this.ctx.clock.mono()),
      clip: (id) => clips.byId(id),
      waitMs: this.cfg.renderWaitS * 1000,
      log: this.log,
      served: (i) => this.log.info(i, `IP speaker ${i.actuator} fetched its audio`),
    });
    try {
      this.boundPort = await server.listen(this.cfg.host, this.cfg.port);
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
    this.dir = dir;
    this.clips = clips;
    this.server = server;
    this.base = `http://${bracketed(this.cfg.urlHost ?? urlHostFor(this.cfg.host))}:${this.boundPort}`;
    const { bus } = this.ctx;
    this.offs.push(
      bus.on('effect', (e) => this.ended(e)),
      bus.on('actuatorReport', (r) => this.reported(r)),
    );
    this.log.info({ host: this.cfg.host, port: this.boundPort, url: `${this.base}/audio/`, speakers: [...this.speakers] }, 'IP speaker audio listening');
  }

  async stop(): Promise<void> {
    for (const off of this.offs) off();
    this.offs = [];
    await this.server?.close();
    this.server = null;
    this.clips = null;
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
    this.dir = null;
  }

  /**
   * For the router, as it sends a broadcast to MQTT speaker `a`: the audio's URL with a fresh
   * token, the render started. Null for anything else, or while the server is not up (the
   * command then carries the text only, as without `ip_speakers`).
   */
  audioFor(e: Effect, a: ActuatorConfig): { audio: AudioRef } | null {
    if (e.type !== 'broadcast' || !this.clips || !this.speakers.has(a.id)) return null;
    const clip = this.clips.get(e);
    const now = this.ctx.clock.mono();
    const ttlMs = this.ctx.config.actions.broadcastMaxS * 1000;
    const { token } = this.grants.issue(clip.id, a.id, e.activity, now, ttlMs);
    void this.clips.prune((id) => this.grants.inUse(id, now));
    return { audio: { url: `${this.base}/audio/${clip.id}.wav?token=${token}`, format: 'wav', expires_at: wallTime(this.ctx.clock.wall() + ttlMs, this.ctx.config.site.utcOffset) } };
  }

  private rendered(c: Clip, r: ClipResult): void {
    if (r.ok) this.log.info({ clip: c.id, duration_s: Math.round(r.durationS * 10) / 10, bytes: r.bytes, render_ms: r.renderMs }, 'IP speaker audio rendered');
    // The text went out with the command: speakers say it with their own TTS (their fetch gets 503).
    else this.log.error({ clip: c.id, code: r.code, message: r.message }, 'IP speaker audio could not be rendered; the speakers have the text');
  }

  /** The box stopped a broadcast on a speaker: its token stops working at once (a pre-empted message must not start late). */
  private ended(e: Effect): void {
    if (e.type === 'broadcast_stop' && e.actuator && this.speakers.has(e.actuator)) this.grants.end(e.actuator, e.activity, this.ctx.clock.mono());
  }

  /** The speaker is done with it (or failed it): no more fetches. */
  private reported(r: ActuatorReport): void {
    if ((r.report === 'done' || r.report === 'fault') && r.activity && this.speakers.has(r.actuator)) this.grants.end(r.actuator, r.activity, this.ctx.clock.mono());
  }
}

export function isIpSpeaker(a: ActuatorConfig): boolean {
  return a.kind === 'speaker' && !a.modbus && !a.audio;
}
