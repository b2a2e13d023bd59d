/**
 * The live stream (GET /api/live, Server-Sent Events): each `state` replaces the page's view
 * of the site; `logged` events are kept (the last few hundred) for the screens that follow
 * them. The browser reconnects by itself after a dropped connection (the box sends `retry:
 * 3000`); a stream refused outright (the session ended, the box restarted) is checked with GET
 * /api/session, which signs the page out on a 401.
 */
import { currentSession } from './api.ts';
import { syncClock } from './format.ts';
import type { LoggedEvent, State } from './types.ts';

const KEEP_EVENTS = 500;

export class Live {
  state: State | null = null;
  connected = false;
  readonly events: LoggedEvent[] = [];
  private es: EventSource | null = null;
  private retry: number | null = null;
  private readonly listeners = new Set<() => void>();
  private readonly eventListeners = new Set<(e: LoggedEvent) => void>();

  onChange(f: () => void): () => void {
    this.listeners.add(f);
    return () => this.listeners.delete(f);
  }

  onEvent(f: (e: LoggedEvent) => void): () => void {
    this.eventListeners.add(f);
    return () => this.eventListeners.delete(f);
  }

  start(): void {
    this.stop();
    const es = new EventSource('/api/live');
    this.es = es;
    es.addEventListener('open', () => this.setConnected(true));
    es.addEventListener('state', (m) => {
      const s = JSON.parse((m as MessageEvent<string>).data) as State;
      syncClock(s.at);
      this.state = s;
      this.connected = true;
      this.emit();
    });
    es.addEventListener('logged', (m) => {
      const e = JSON.parse((m as MessageEvent<string>).data) as LoggedEvent;
      this.events.push(e);
      if (this.events.length > KEEP_EVENTS) this.events.splice(0, this.events.length - KEEP_EVENTS);
      for (const f of this.eventListeners) f(e);
    });
    es.addEventListener('error', () => {
      this.setConnected(false);
      if (es.readyState !== EventSource.CLOSED || this.es !== es) return;
      // Refused: signed out (currentSession's 401 signs the page out) or the box is away.
      this.retry = window.setTimeout(() => {
        this.retry = null;
        currentSession().then(
          (s) => s && this.es === es && this.start(),
          () => this.es === es && this.start(),
        );
      }, 3000);
    });
  }

  stop(): void {
    if (this.retry !== null) clearTimeout(this.retry);
    this.retry = null;
    this.es?.close();
    this.es = null;
    this.connected = false;
  }

  private setConnected(c: boolean): void {
    if (this.connected === c) return;
    this.connected = c;
    this.emit();
  }

  private emit(): void {
    for (const f of this.listeners) f();
  }
}
