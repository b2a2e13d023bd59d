import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqttPacket from 'mqtt-packet';
import { afterAll, describe, expect, it } from 'vitest';
import { loggableConfig } from '../../gateway/box.ts';
import '../../gateway/broker/broker.ts';
import { main } from '../../gateway/cli.ts';
import { ConfigError } from '../../gateway/config/errors.ts';
import { loadSiteIsolated } from '../../gateway/config/isolated.ts';
import { DEMO_SITE } from '../../gateway/demo.ts';

const dir = mkdtempSync(join(tmpdir(), 'sb-config-isolated-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the box reads its config in a throwaway worker thread', () => {
  it('returns the same effective config as the in-process loader, with the profiles its buses need', async () => {
    const { loadConfig } = await import('../../gateway/config/load.ts');
    const { config, profiles } = await loadSiteIsolated(DEMO_SITE);
    expect(config).toEqual(loadConfig(DEMO_SITE));
    expect(config.buses.length).toBeGreaterThan(0);
    expect(profiles.map((p) => p.model)).toContain('waveshare-modbus-rtu-relay');
  });

  it('loads no profiles for a site without field buses', async () => {
    const file = join(dir, 'mqtt-only.yaml');
    writeFileSync(file, 'site: { id: s1, name: 测试 }\nsensors: [{ id: rg1, kind: rain }]\n');
    const { config, profiles } = await loadSiteIsolated(file);
    expect(config.sensors.map((s) => s.id)).toEqual(['rg1']);
    expect(profiles).toEqual([]);
  });

  it('a bad config is a ConfigError with every problem and its line; a missing file says so', async () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'site: { id: s1, name: 测试 }\nsensors:\n  - { id: rg1, kind: rain, colour: blue }\n');
    const err = await loadSiteIsolated(file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems).toEqual([{ path: 'sensors[0].colour', message: 'unknown key (line 3)' }]);
    await expect(loadSiteIsolated(join(dir, 'nope.yaml'))).rejects.toThrow(/nope\.yaml: .*no such file/i);
  });

  it('`shaobing start` with a bad config exits 1 naming the problem, and starts nothing', async () => {
    const file = join(dir, 'bad2.yaml');
    writeFileSync(file, 'site: { id: s1, name: 测试 }\nsensors: [{ id: rg1, kind: snow }]\n');
    const err: string[] = [];
    const code = await main(['start', '--config', file], { out: () => undefined, err: (s) => err.push(s) });
    expect(code).toBe(1);
    expect(err.join('\n')).toMatch(/sensors\[0\]\.kind/);
  });

  it('the effective config is logged without the accounts\' secret hashes', async () => {
    const { config } = await loadSiteIsolated(DEMO_SITE);
    const logged = JSON.stringify(loggableConfig(config));
    expect(config.mqtt.accounts.length).toBeGreaterThan(0);
    expect(logged).not.toMatch(/scrypt\$/);
    expect(logged).toContain('wang (officer)');
  });

  it('the broker turns off mqtt-packet\'s 65,536-buffer packet-id cache (6.4 MB of heap)', () => {
    expect(mqttPacket.writeToStream.cacheNumbers).toBe(false);
  });
});
