/**
 * Modbus TCP transport for the simulated bus (Modbus Messaging on TCP/IP V1.0b §3.1): MBAP header
 * (transaction id, protocol 0, length, unit id) + PDU, on 127.0.0.1 and a port the OS picks.
 *
 * Why not modbus-serial's ServerTCP (read in node_modules/modbus-serial/servers/servertcp.js):
 * it listens on `options.port || 502`, so port 0 (ephemeral) silently becomes 502; its FC05
 * handler passes `state === 0xff00` to the vector, losing the value field the Waveshare flash
 * command carries; and a vector cannot send a short frame. The PDU rules live in pdu.ts, shared
 * with RTU, so both transports answer alike.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { Reply } from './device.ts';

export type Dispatch = (unit: number, pdu: Buffer) => Reply | null;

const MBAP = 7; // transaction id (2), protocol id (2), length (2), unit id (1)

export class TcpTransport {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  port = 0;

  constructor(
    private readonly dispatch: Dispatch,
    readonly host = '127.0.0.1',
  ) {}

  async start(): Promise<void> {
    const server = createServer((sock) => this.serve(sock));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: this.host, port: 0 }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const addr = server.address();
    this.port = typeof addr === 'object' && addr ? addr.port : 0;
  }

  private serve(sock: Socket): void {
    this.sockets.add(sock);
    sock.setNoDelay(true);
    let buf = Buffer.alloc(0);
    sock.on('close', () => this.sockets.delete(sock));
    sock.on('error', () => sock.destroy());
    sock.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= MBAP) {
        const length = buf.readUInt16BE(4);
        if (buf.readUInt16BE(2) !== 0 || length < 2 || length > 254) return void sock.destroy(); // not Modbus
        if (buf.length < 6 + length) return;
        const tid = buf.readUInt16BE(0);
        const unit = buf[6] as number;
        const pdu = Buffer.from(buf.subarray(MBAP, 6 + length));
        buf = buf.subarray(6 + length);
        this.answer(sock, tid, unit, this.dispatch(unit, pdu));
      }
    });
  }

  private answer(sock: Socket, tid: number, unit: number, reply: Reply | null): void {
    if (!reply?.pdu) return;
    // No CRC on TCP: bad_crc has nothing to corrupt and is answered normally.
    const pdu = reply.short ? reply.pdu.subarray(0, Math.max(1, reply.pdu.length - 2)) : reply.pdu;
    const out = Buffer.alloc(MBAP + pdu.length);
    out.writeUInt16BE(tid, 0);
    out.writeUInt16BE(0, 2);
    out.writeUInt16BE(pdu.length + 1, 4);
    out[6] = unit;
    pdu.copy(out, MBAP);
    const send = () => {
      if (!sock.destroyed) sock.write(out);
    };
    if (reply.delayMs <= 0) return send();
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      send();
    }, reply.delayMs);
    this.timers.add(timer);
  }

  /** Closes the listener and every connection. Always resolves, within about a second. */
  async stop(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const s of this.sockets) s.destroy();
    const server = this.server;
    this.server = null;
    if (!server) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 1000);
      server.close(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
