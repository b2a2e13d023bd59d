/**
 * MQTT 3.1.1 packets by hand, for the flood benchmark's two clients that mqtt.js cannot be:
 *  - the load generator, which must offer 48,000 QoS 0 readings/s from one process on a
 *    loaded 2-core machine: a pre-encoded PUBLISH costs a Buffer copy, not a packet object,
 *    a serialiser and a callback (mqtt.js tops out near there on a core of its own);
 *  - the frozen subscriber, which CONNECTs and SUBSCRIBEs and then stops reading its socket
 *    (mqtt.js always reads).
 * Only what those need: CONNECT with username/password and keep-alive 0 (off: the frozen one
 * must be cut only by the broker's drain timeout, never by a missed PINGREQ), CONNACK, QoS 0
 * PUBLISH, SUBSCRIBE and its SUBACK. Every wait is bounded. Loopback only (127.0.0.1).
 */
import { connect, type Socket } from 'node:net';

function str(s: string): Buffer {
  const b = Buffer.from(s, 'utf8');
  const out = Buffer.allocUnsafe(2 + b.length);
  out.writeUInt16BE(b.length, 0);
  b.copy(out, 2);
  return out;
}

/** MQTT 3.1.1 §2.2.3: remaining length, 7 bits a byte, high bit = more. */
function remainingLength(n: number): Buffer {
  const bytes: number[] = [];
  do {
    let d = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) d |= 0x80;
    bytes.push(d);
  } while (n > 0);
  return Buffer.from(bytes);
}

function packet(first: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([first]), remainingLength(body.length), body]);
}

export function connectPacket(clientId: string, username: string, password: string): Buffer {
  // §3.1.2: "MQTT", level 4, flags username | password | clean session, keep-alive 0 (off).
  const header = Buffer.concat([str('MQTT'), Buffer.from([4, 0x80 | 0x40 | 0x02, 0, 0])]);
  return packet(0x10, Buffer.concat([header, str(clientId), str(username), str(password)]));
}

/** A QoS 0 PUBLISH (no packet id): §3.3. */
export function publishPacket(topic: string, payload: string): Buffer {
  return packet(0x30, Buffer.concat([str(topic), Buffer.from(payload, 'utf8')]));
}

export function subscribePacket(packetId: number, filter: string, qos: 0 | 1): Buffer {
  const id = Buffer.allocUnsafe(2);
  id.writeUInt16BE(packetId, 0);
  return packet(0x82, Buffer.concat([id, str(filter), Buffer.from([qos])]));
}

/** Reads exactly `n` bytes from the socket, or fails after `ms`. */
function readBytes(sock: Socket, n: number, ms: number, what: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const done = (err: Error | null, b?: Buffer): void => {
      clearTimeout(t);
      sock.off('data', onData);
      sock.off('close', onClose);
      if (err) reject(err);
      else {
        if (buf.length > n) sock.unshift(buf.subarray(n));
        resolve(b!);
      }
    };
    const onData = (d: Buffer): void => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= n) done(null, buf.subarray(0, n));
    };
    const onClose = (): void => done(new Error(`${what}: connection closed`));
    const t = setTimeout(() => done(new Error(`${what}: no answer in ${ms} ms`)), ms);
    sock.on('data', onData);
    sock.once('close', onClose);
  });
}

/**
 * Connects and authenticates; resolves with the socket after CONNACK 0, else rejects (bounded
 * by `ms` in all). As a field device does, it tries again after a short jittered pause when the
 * box says "not now": CONNACK 3 (its secret-check lanes are full while a thousand devices
 * connect at once) or a socket closed before CONNACK (its limit of unauthenticated connections).
 */
export async function rawConnect(port: number, clientId: string, username: string, password: string, ms = 10_000): Promise<Socket> {
  const until = performance.now() + ms;
  for (;;) {
    try {
      return await connectOnce(port, clientId, username, password, Math.max(1, until - performance.now()));
    } catch (err) {
      const notNow = /CONNACK return code 3$|connection refused or closed|CONNACK: connection closed$/.test((err as Error).message);
      if (!notNow || performance.now() + 500 > until) throw err;
      await new Promise((r) => setTimeout(r, 100 + Math.random() * 300));
    }
  }
}

async function connectOnce(port: number, clientId: string, username: string, password: string, ms: number): Promise<Socket> {
  const sock = connect({ host: '127.0.0.1', port, noDelay: true });
  sock.on('error', () => {}); // a reset shows as 'close'; callers watch that
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${clientId}: TCP connect timed out`)), ms);
    sock.once('connect', () => (clearTimeout(t), resolve()));
    sock.once('close', () => (clearTimeout(t), reject(new Error(`${clientId}: connection refused or closed`))));
  });
  sock.write(connectPacket(clientId, username, password));
  const ack = await readBytes(sock, 4, ms, `${clientId} CONNACK`);
  if (ack[0] !== 0x20 || ack[3] !== 0) {
    sock.destroy();
    throw new Error(`${clientId}: CONNACK return code ${ack[3]}`);
  }
  return sock;
}

/** SUBSCRIBE and wait for the SUBACK; resolves with the granted QoS or 0x80 (refused). */
export async function rawSubscribe(sock: Socket, filter: string, qos: 0 | 1, ms = 10_000): Promise<number> {
  sock.write(subscribePacket(1, filter, qos));
  const ack = await readBytes(sock, 5, ms, `SUBACK for ${filter}`);
  if (ack[0] !== 0x90) throw new Error(`expected SUBACK, got packet type 0x${ack[0]!.toString(16)}`);
  return ack[4]!;
}
