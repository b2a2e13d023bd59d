/**
 * A bare MQTT 3.1.1 client for the abuse benchmark: one TCP socket, CONNECT, the CONNACK's
 * return code. Why not mqtt.js: the attacks open thousands of sockets, each from a chosen
 * loopback source address (`localAddress`, 127.0.0.x simulates many attackers on one machine),
 * and some of them must misbehave (never read their socket) in ways mqtt.js does not allow.
 * Every call settles within its deadline; a socket is never left open by a failed call.
 */
import { connect as netConnect, type Socket } from 'node:net';
import mqttPacket from 'mqtt-packet';

export interface ConnectOptions {
  port: number;
  username: string;
  password: string;
  clientId: string;
  /** Source address, 127.0.0.x (default: the kernel's choice, 127.0.0.1). */
  localAddress?: string;
  /** Gives up (result 'timeout') after this long. */
  timeoutMs: number;
  keepalive?: number;
  /** Called once the CONNECT is written (the attack is "in place" once all its CONNECTs are). */
  onSent?: () => void;
}

/** CONNACK return code (MQTT 3.1.1 §3.2.2.3: 0 accepted, 3 unavailable, 4 bad user name or password, 5 not authorized), or why none came. */
export type ConnectResult = { code: 0; ms: number; socket: Socket } | { code: number | 'closed' | 'timeout' | 'error'; ms: number; socket: null };

/** Opens a socket and sends CONNECT; resolves with the CONNACK (the socket stays open on code 0 only). */
export function rawConnect(o: ConnectOptions): Promise<ConnectResult> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const socket = netConnect({ host: '127.0.0.1', port: o.port, ...(o.localAddress ? { localAddress: o.localAddress } : {}) });
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    let settled = false;
    const done = (r: ConnectResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.removeListener('data', onData);
      if (r.socket === null) socket.destroy();
      resolve(r);
    };
    const timer = setTimeout(() => done({ code: 'timeout', ms: performance.now() - t0, socket: null }), o.timeoutMs);
    const onData = (b: Buffer): void => void parser.parse(b);
    parser.on('packet', (p) => {
      if (p.cmd !== 'connack') return;
      const code = (p as { returnCode?: number }).returnCode ?? -1;
      if (code !== 0) socket.destroy();
      done(code === 0 ? { code: 0, ms: performance.now() - t0, socket } : { code, ms: performance.now() - t0, socket: null });
    });
    socket.on('data', onData);
    socket.on('error', () => done({ code: 'error', ms: performance.now() - t0, socket: null }));
    socket.on('close', () => done({ code: 'closed', ms: performance.now() - t0, socket: null }));
    socket.on('connect', () => {
      socket.write(
        mqttPacket.generate({
          cmd: 'connect',
          protocolId: 'MQTT',
          protocolVersion: 4,
          clean: true,
          clientId: o.clientId,
          keepalive: o.keepalive ?? 60,
          username: o.username,
          password: Buffer.from(o.password),
        }),
      );
      o.onSent?.();
    });
  });
}

/** Sends SUBSCRIBE for `filters` at QoS 0 on a connected socket (no wait for SUBACK). */
export function rawSubscribe(socket: Socket, filters: string[], messageId = 1): void {
  socket.write(mqttPacket.generate({ cmd: 'subscribe', messageId, subscriptions: filters.map((topic) => ({ topic, qos: 0 })) }));
}

/** One QoS 0 PUBLISH packet, built once and written many times. */
export function publishPacket(topic: string, payload: string | Buffer): Buffer {
  return mqttPacket.generate({ cmd: 'publish', topic, payload, qos: 0, retain: false, dup: false });
}

export const PINGREQ = mqttPacket.generate({ cmd: 'pingreq' });
export const DISCONNECT = mqttPacket.generate({ cmd: 'disconnect' });

/** Ends a connected socket politely (DISCONNECT, then FIN), and destroys it if that does not close it within 1 s. */
export function rawEnd(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    if (socket.destroyed) return resolve();
    const t = setTimeout(() => {
      socket.destroy();
      resolve();
    }, 1000);
    socket.once('close', () => {
      clearTimeout(t);
      resolve();
    });
    socket.on('error', () => {});
    socket.end(DISCONNECT);
  });
}
