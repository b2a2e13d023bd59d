/**
 * A panel that cannot bind its port (another program holds it) is logged and retried; the box
 * runs without it meanwhile (the alarm path never depends on the panel), and the panel comes
 * up once the port is free.
 */
import { createServer, type Server } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { startBoxRig, type BoxRig } from '../helpers/box-rig.ts';
import { until } from '../helpers/until.ts';

let rig: BoxRig | undefined;
let blocker: Server | undefined;
afterAll(async () => {
  await rig?.stop();
  blocker?.close();
});

describe('panel port taken', () => {
  it('the box starts without the panel, and the panel follows when the port frees', async () => {
    blocker = createServer();
    await new Promise<void>((r) => blocker!.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as { port: number }).port;
    rig = await startBoxRig(`panel: { host: 127.0.0.1, port: ${port} }`);
    expect(rig.box.panel!.port).toBeNull();
    // The box works: an officer's command over MQTT is carried out.
    const wang = await rig.connect('wang');
    const results: any[] = [];
    wang.on('message', (_t, p) => results.push(JSON.parse(p.toString())));
    await wang.subscribeAsync('sb/v1/itest/cmd/box/result', { qos: 1 });
    await wang.publishAsync('sb/v1/itest/cmd/box', JSON.stringify({ type: 'silence', command_id: 's-1' }), { qos: 1 });
    await until('the result', () => results.find((r) => r.command_id === 's-1'));
    await new Promise<void>((r) => blocker!.close(() => r()));
    blocker = undefined;
    await until('the panel listening', () => rig!.box.panel!.port === port, 20_000);
    const r = await fetch(`http://127.0.0.1:${port}/api/state`);
    expect(r.status).toBe(401);
  });
});
