/**
 * Aedes' MQTT parser (mqtt-packet) buffers a packet until its declared length has arrived and
 * has no size limit for MQTT 3.1.1, so a socket that declares a 200 MB CONNECT and streams it
 * would fill the box's memory before anyone has authenticated. This watches the byte stream
 * aedes reads and reports the first packet whose declared "remaining length"
 * (MQTT 3.1.1 §2.2.3: 1–4 bytes, 7 bits each, least significant first) exceeds the limit — as
 * soon as its header arrives, before its body is buffered.
 *
 * It only observes: the connection's 'data' listener is added after aedes' 'readable'
 * listener, and with both present Node emits 'data' only for the chunks `read()` returns, so
 * aedes' flow control is unchanged.
 */
export class FrameGuard {
  private state: 'type' | 'length' | 'body' = 'type';
  private length = 0;
  private lengthBytes = 0;
  private body = 0;

  constructor(private readonly maxRemainingLength: number) {}

  /** Feeds bytes read from the connection; returns the oversize (or malformed) length seen, or 0. */
  feed(chunk: Buffer): number {
    let i = 0;
    while (i < chunk.length) {
      switch (this.state) {
        case 'type':
          i++; // packet type and flags
          this.state = 'length';
          this.length = 0;
          this.lengthBytes = 0;
          break;
        case 'length': {
          const b = chunk[i++]!;
          this.length += (b & 0x7f) * 128 ** this.lengthBytes;
          this.lengthBytes++;
          if (this.length > this.maxRemainingLength) return this.length;
          if (b & 0x80) {
            if (this.lengthBytes === 4) return Number.POSITIVE_INFINITY; // at most 4 length bytes
          } else {
            this.body = this.length;
            this.state = this.body > 0 ? 'body' : 'type';
          }
          break;
        }
        case 'body': {
          const n = Math.min(this.body, chunk.length - i);
          i += n;
          this.body -= n;
          if (this.body === 0) this.state = 'type';
          break;
        }
      }
    }
    return 0;
  }
}
