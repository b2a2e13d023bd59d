/**
 * The broker's two doors: MQTT over TCP, and MQTT over WebSocket for the panel (any path; the
 * `mqtt` subprotocol that mqtt.js asks for is accepted). Every socket is tracked so `close()`
 * can destroy the ones a stuck client keeps open and still finish within its deadline
 * (every close resolves, even when a client never lets go).
 */
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer } from 'node:http';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, createWebSocketStream } from 'ws';
import { FrameGuard } from './frame-guard.ts';

export type Handle = (stream: Duplex, req?: IncomingMessage) => void;

export interface ListenOptions {
  host: string;
  tcpPort: number;
  /** `null` = no WebSocket listener; 0 = an ephemeral port. */
  wsPort: number | null;
  /** Largest MQTT packet (remaining length) a client may send; a larger one closes the connection. */
  maxPacketBytes: number;
  /** Told when a connection is closed for an oversize packet. */
  onOversize(remote: string, declaredBytes: number): void;
  /** Asked first for each new connection; `false` closes it before a byte is read (connection-limits.ts). */
  admit(stream: Duplex, remote: string): boolean;
}

function listen(server: NetServer | HttpServer, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen({ port, host }, () => {
      server.off('error', onError);
      const addr = server.address();
      resolve(typeof addr === 'object' && addr ? addr.port : port);
    });
  });
}

function closeServer(server: NetServer | HttpServer): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
  });
}

export class Listeners {
  private tcp: NetServer | null = null;
  private http: HttpServer | null = null;
  private wss: WebSocketServer | null = null;
  private readonly sockets = new Set<Socket>();
  tcpPort = 0;
  wsPort = 0;

  constructor(private readonly handle: Handle) {}

  /** Hands the stream to aedes, then watches what aedes reads from it (frame-guard.ts). */
  private serve(stream: Duplex, remote: string, o: ListenOptions, req?: IncomingMessage): void {
    if (!o.admit(stream, remote)) {
      stream.destroy();
      return;
    }
    this.handle(stream, req);
    const guard = new FrameGuard(o.maxPacketBytes);
    const watch = (chunk: Buffer): void => {
      const size = guard.feed(chunk);
      if (size === 0) return;
      stream.off('data', watch);
      o.onOversize(remote, size);
      stream.destroy();
    };
    stream.on('data', watch);
  }

  private track(socket: Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
  }

  async open(o: ListenOptions): Promise<void> {
    this.tcp = createNetServer((socket) => {
      this.track(socket);
      socket.setNoDelay(true);
      this.serve(socket, socket.remoteAddress ?? 'unknown', o);
    });
    this.tcpPort = await listen(this.tcp, o.tcpPort, o.host);
    if (o.wsPort === null) return;
    this.http = createHttpServer((_req, res) => {
      res.writeHead(426, { 'content-type': 'text/plain' }).end('MQTT over WebSocket only\n');
    });
    this.http.on('connection', (socket: Socket) => this.track(socket));
    // A WebSocket message carries one MQTT packet or part of one; the guard bounds the packet.
    this.wss = new WebSocketServer({ server: this.http, maxPayload: o.maxPacketBytes + 16 });
    this.wss.on('connection', (ws, req) => {
      this.serve(createWebSocketStream(ws), req.socket.remoteAddress ?? 'unknown', o, req);
    });
    // WebSocketServer re-emits the http server's errors; listen() below reports them.
    this.wss.on('error', () => undefined);
    this.wsPort = await listen(this.http, o.wsPort, o.host);
  }

  /** Stops accepting connections; established ones stay until `destroyAll()`. */
  stopAccepting(): Promise<void> {
    const done = Promise.all([this.tcp && closeServer(this.tcp), this.http && closeServer(this.http)]).then(() => undefined);
    this.wss?.close();
    return done;
  }

  /** Destroys every socket still open (clients that did not go when aedes closed them). */
  destroyAll(): void {
    for (const ws of this.wss?.clients ?? []) ws.terminate();
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }

  get openSockets(): number {
    return this.sockets.size;
  }
}
