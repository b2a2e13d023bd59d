import { describe, expect, it } from 'vitest';
import { formatProblem, parseConfig } from '../../gateway/config/load.ts';
import { loggableConfig } from '../../gateway/box.ts';

const site = (uplink: string): string => `
site: { id: demo, name: 示范社区 }
sensors:
  - { id: rg1, kind: rain }
${uplink}
`;
const problems = (yaml: string): string[] => parseConfig(yaml).problems.map(formatProblem);

describe('uplink config', () => {
  it('no uplink key is no uplink', () => {
    expect(parseConfig(site('')).config!.uplink).toBeNull();
  });

  it('fills the defaults: client id sb-<site>, MQTT 5, window 64', () => {
    const { config, problems: p } = parseConfig(site('uplink: { url: "mqtt://township.example:1883", username: sb-demo, password_file: /etc/shaobing/uplink.pw }'));
    expect(p).toEqual([]);
    expect(config!.uplink).toEqual({
      url: 'mqtt://township.example:1883',
      username: 'sb-demo',
      passwordFile: '/etc/shaobing/uplink.pw',
      clientId: 'sb-demo',
      caFile: null,
      certFile: null,
      keyFile: null,
      protocolVersion: 5,
      keepaliveS: 30,
      window: 64,
    });
  });

  it('takes TLS files with mqtts, and every key given', () => {
    const { config, problems: p } = parseConfig(site('uplink: { url: "mqtts://10.0.0.5:8883", username: u, password_file: pw, client_id: box-7, ca_file: ca.crt, cert_file: c.crt, key_file: c.key, protocol_version: 4, keepalive_s: 60, window: 16 }'));
    expect(p).toEqual([]);
    expect(config!.uplink).toMatchObject({ clientId: 'box-7', caFile: 'ca.crt', certFile: 'c.crt', keyFile: 'c.key', protocolVersion: 4, keepaliveS: 60, window: 16 });
  });

  it('names unknown keys, a bad url, a bad protocol version and a bad window as path: message', () => {
    const p = problems(site('uplink: { url: "http://x:80/path", pasword_file: pw, protocol_version: 3, window: 0 }'));
    expect(p).toEqual(expect.arrayContaining([
      expect.stringMatching(/^uplink\.pasword_file: unknown key/),
      expect.stringMatching(/^uplink\.url: must match/),
      expect.stringMatching(/^uplink\.protocol_version: must be one of 4, 5/),
      expect.stringMatching(/^uplink\.window: must be >= 1/),
    ]));
  });

  it('a missing url, TLS files without mqtts, a certificate without its key and a password without a username are problems', () => {
    expect(problems(site('uplink: { username: u }'))).toEqual([expect.stringMatching(/^uplink\.url: is required/)]);
    expect(problems(site('uplink: { url: "mqtt://h:1883", ca_file: ca.crt, cert_file: c.crt, password_file: pw }'))).toEqual(expect.arrayContaining([
      expect.stringMatching(/^uplink\.ca_file: TLS files need an mqtts:\/\/ url/),
      expect.stringMatching(/^uplink\.key_file: cert_file needs its key_file/),
      expect.stringMatching(/^uplink\.username: a password_file needs a username/),
    ]));
  });

  it('the effective-config line names the password file, never a password', () => {
    const { config } = parseConfig(site('uplink: { url: "mqtt://h:1883", username: u, password_file: /run/secret/pw }'));
    const line = JSON.stringify(loggableConfig(config!));
    expect(line).toContain('/run/secret/pw');
    expect(line).not.toMatch(/"password"/);
  });
});
