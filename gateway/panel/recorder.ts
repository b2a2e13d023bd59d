/**
 * What the panel puts on record: a `session` event in the event log (with who, role, address,
 * `via: 'panel'`) and the same in the box log. Commands are recorded by the engine runner,
 * which logs each with the meta the panel gives it (`{by, role, via: 'panel'}`).
 */
import type { Logger } from 'pino';
import type { Role } from '../shell/bus.ts';
import { record, type EventSink } from '../shell/record.ts';
import type { BoxContext } from './state-types.ts';

export type SessionAction = 'sign_in' | 'sign_out' | 'expired' | 'replaced' | 'locked_out';

export class PanelRecorder {
  constructor(private readonly ctx: BoxContext, private readonly sink: EventSink, readonly log: Logger) {}

  session(action: SessionAction, username: string, role: Role | null, address: string, extra: Record<string, unknown> = {}): void {
    const payload = { action, username, ...(role ? { role } : {}), address, via: 'panel', ...extra };
    (action === 'locked_out' ? this.log.warn : this.log.info).call(this.log, payload, `panel ${action.replace('_', ' ')}: ${username}`);
    record(this.ctx, this.sink, 'session', payload);
  }
}
