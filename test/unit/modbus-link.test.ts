// A serial port error re-emitted by modbus-serial as its client's 'error' event (a write to a
// pty that closed: EBADF, `disconnect: true`, seen once in a full run during node-gateway's
// teardown) must never be an uncaught exception: in the box it would end the process.
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModbusSerialLink, type LinkConfig } from '../../drivers/modbus/link.ts';

let server: Server;
let port = 0;
beforeAll(async () => {
  server = createServer((s) => s.on('error', () => undefined));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as { port: number }).port;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const ebadf = Object.assign(new Error('EBADF: bad file descriptor, write'), { code: 'EBADF', disconnect: true });
const clientOf = (link: ModbusSerialLink): { emit(e: string, err: Error): boolean } => (link as unknown as { client: { emit(e: string, err: Error): boolean } }).client;

describe('Modbus link', () => {
  it('a port error on the client is handled, before and after open', async () => {
    const cfg: LinkConfig = { id: 'net1', type: 'tcp', host: '127.0.0.1', port, baud: 9600, parity: 'none', dataBits: 8, stopBits: 1, timeoutMs: 300 } as LinkConfig;
    const link = new ModbusSerialLink(cfg);
    expect(() => clientOf(link).emit('error', ebadf)).not.toThrow();
    await link.open();
    expect(() => clientOf(link).emit('error', ebadf)).not.toThrow();
    await link.close();
  });
});
