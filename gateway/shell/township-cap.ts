/**
 * The CAP inbox in the running box: each message the uplink delivers from the township's warning
 * tree (`townshipCap`, from `sb/v1/cap/#`) goes through the pure decision (cap/cap-inbox.ts)
 * with the box's clock; what it decided is logged and recorded, then its commands go to the
 * planner as township commands (`by: cap:<sender>`, `via: cap`), which the engine runner
 * records as `command` events before they act.
 *
 * Recorded as a `note`: the message is not itself a command to the box (the broadcast it causes
 * is, and is recorded as one), nor a sensor observation; a note is the log's word for a
 * decision that is not an effect. Out-of-area messages are logged at debug only and not
 * recorded: the box listens to the whole county's tree, and every box writing every other
 * village's warnings into its log (and back up to the township) would bury the ones that matter.
 *
 * Wired whether or not an uplink is configured: without one nothing emits `townshipCap`, and a
 * module that only listens costs nothing.
 */
import type { Logger } from 'pino';
import { createCapInbox, onCap, type CapInboxState, type CapLog } from '../cap/cap-inbox.ts';
import type { TownshipMessage } from './bus.ts';
import type { BoxContext, Module } from './module.ts';
import { record, type EventSink } from './record.ts';

/** The note a CAP message leaves in the event log (snake_case: it is uplinked as it is). */
export function capNote(topic: string, l: CapLog): Record<string, unknown> {
  return {
    note: 'cap_in',
    topic,
    outcome: l.outcome,
    reason: l.reason,
    detail: l.detail,
    ...(l.identifier === undefined ? {} : { identifier: l.identifier, sender: l.sender, sent: l.sent, status: l.status, msg_type: l.msgType }),
    ...(l.key === undefined ? {} : { key: l.key }),
    ...(l.priority === undefined ? {} : { priority: l.priority, siren: l.siren }),
  };
}

export class TownshipCapInbox implements Module {
  readonly name = 'cap-inbox';
  private readonly log: Logger;
  private readonly state: CapInboxState;
  private off: (() => void) | null = null;

  constructor(
    private readonly ctx: BoxContext,
    private readonly sink: EventSink,
  ) {
    this.log = ctx.log.child({ module: 'cap-inbox' });
    this.state = createCapInbox(ctx.config.site.cap);
  }

  async start(): Promise<void> {
    this.off ??= this.ctx.bus.on('townshipCap', (m) => this.receive(m));
  }

  async stop(): Promise<void> {
    this.off?.();
    this.off = null;
  }

  private receive(m: TownshipMessage): void {
    const { clock, config, bus } = this.ctx;
    const d = onCap(this.state, m.payload, { now: clock.wall(), clockTrusted: clock.trusted() }, {
      sirenPattern: config.actions.levelPatterns.red ?? null,
      repeat: config.actions.broadcastRepeat,
    });
    const l = d.log;
    const fields = { topic: m.topic, bytes: m.payload.length, outcome: l.outcome, reason: l.reason, detail: l.detail, identifier: l.identifier, sender: l.sender, status: l.status, msg_type: l.msgType, key: l.key, priority: l.priority };
    if (l.reason === 'out_of_area') {
      this.log.debug(fields, 'CAP message not for this site');
      return;
    }
    if (l.outcome === 'rejected') this.log.warn(fields, 'CAP message rejected');
    else if (l.outcome === 'ignored') this.log.info(fields, 'CAP message ignored');
    else this.log.info(fields, 'CAP message accepted');
    record(this.ctx, this.sink, 'note', capNote(m.topic, l));
    for (const c of d.commands) bus.emit('command', c, { by: `cap:${l.sender}`, role: 'township', via: 'cap' });
  }
}
