/** A small site for integration tests of the running box, with fast scrypt hashes. */
import { parseConfig, formatProblem } from '../../gateway/config/load.ts';
import type { SiteConfig } from '../../gateway/config/types.ts';
import { hashSecret } from '../../gateway/shell/secrets.ts';

/** Cheap scrypt parameters: tests need many logins, not brute-force resistance. */
export const FAST = { N: 1024, r: 8, p: 1 };
export const pw = (user: string): string => `pw-${user}-secret`;

/** `siteYaml`: more keys of `site` (e.g. `cap: {…}`), since the extra YAML cannot repeat the `site` key. */
export async function boxSite(dbPath: string, extraYaml = '', siteYaml = ''): Promise<SiteConfig> {
  const users: [string, string][] = [
    ['rg1', 'device'],
    ['wl1', 'device'],
    ['sm1', 'device'],
    ['sm2', 'device'],
    ['siren1', 'device'],
    ['spk1', 'device'],
    ['wang', 'officer'],
    ['town', 'township'],
    ['viewer', 'observer'],
  ];
  const accounts = await Promise.all(users.map(async ([u, role]) => `    - { username: ${u}, role: ${role}, secret_hash: '${await hashSecret(pw(u), FAST)}' }`));
  const yaml = `
site: { id: itest, name: 测试村, name_en: Testville${siteYaml ? `, ${siteYaml}` : ''} }
zones: [{ id: b3, name: 3号楼 }]
sensors:
  - { id: rg1, kind: rain }
  - { id: wl1, kind: water_level, stages: { warning: 2.5, guaranteed: 3.0, historical_max: 3.5 }, raise_after_s: 0, clear_after_s: 0 }
  - { id: sm1, kind: smoke, zone: b3 }
  - { id: sm2, kind: smoke, zone: b3 }
actuators:
  - { id: siren1, kind: siren, zones: [site] }
  - { id: spk1, kind: speaker, zones: [site] }
mqtt:
  host: 127.0.0.1
  accounts:
${accounts.join('\n')}
store: { path: '${dbPath}' }
${extraYaml}`;
  const { config, problems } = parseConfig(yaml);
  if (!config) throw new Error(problems.map(formatProblem).join('\n'));
  return config;
}
