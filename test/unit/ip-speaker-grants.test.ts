/** drivers/ip-speaker: the tokens' rules, the URL host, and the ip_speakers config. */
import { describe, expect, it } from 'vitest';
import { formatProblem, parseConfig } from '../../gateway/config/load.ts';
import { clipId } from '../../drivers/ip-speaker/clips.ts';
import { Grants, REMEMBER_MS } from '../../drivers/ip-speaker/grants.ts';
import { urlHostFor } from '../../drivers/ip-speaker/ip-speakers.ts';

const TTL = 300_000;
let n = 0;
const seq = (): string => `token-${++n}`;

describe('grants', () => {
  it('a token opens its clip from issue until its time is up', () => {
    const g = new Grants(seq);
    const { token, grant } = g.issue('c1', 'spk1', 'act-1', 1000, TTL);
    expect(grant).toEqual({ clip: 'c1', actuator: 'spk1', activity: 'act-1', issuedAt: 1000, expiresAt: 1000 + TTL, endedAt: null });
    expect(g.check('c1', token, 1000)).toEqual({ ok: true, grant });
    expect(g.check('c1', token, 1000 + TTL - 1).ok).toBe(true);
    expect(g.check('c1', token, 1000 + TTL)).toEqual({ ok: false, why: 'token_expired' });
  });

  it('no token, an unknown one, or one for another clip', () => {
    const g = new Grants(seq);
    const { token } = g.issue('c1', 'spk1', 'act-1', 0, TTL);
    expect(g.check('c1', null, 0)).toEqual({ ok: false, why: 'token_missing' });
    expect(g.check('c1', '', 0)).toEqual({ ok: false, why: 'token_missing' });
    expect(g.check('c1', 'nope', 0)).toEqual({ ok: false, why: 'token_invalid' });
    expect(g.check('c2', token, 0)).toEqual({ ok: false, why: 'token_invalid' });
  });

  it("ending a speaker's broadcast ends its tokens only: another speaker of the same clip keeps its own", () => {
    const g = new Grants(seq);
    const a = g.issue('c1', 'spk1', 'act-1', 0, TTL);
    const b = g.issue('c1', 'spk2', 'act-1', 0, TTL);
    const other = g.issue('c2', 'spk1', 'act-2', 0, TTL);
    expect(g.end('spk1', 'act-1', 10)).toBe(1);
    expect(g.check('c1', a.token, 11)).toEqual({ ok: false, why: 'token_expired' });
    expect(g.check('c1', b.token, 11).ok).toBe(true);
    expect(g.check('c2', other.token, 11).ok).toBe(true);
    expect(g.end('spk1', 'act-1', 12)).toBe(0);
    expect(g.inUse('c1', 12)).toBe(true);
    g.end('spk2', 'act-1', 13);
    expect(g.inUse('c1', 13)).toBe(false);
  });

  it('an ended grant is remembered a while (a late fetch is told expired), then forgotten', () => {
    const g = new Grants(seq);
    const { token } = g.issue('c1', 'spk1', 'act-1', 0, TTL);
    g.end('spk1', 'act-1', 100);
    g.sweep(100 + REMEMBER_MS - 1);
    expect(g.check('c1', token, 100 + REMEMBER_MS - 1)).toEqual({ ok: false, why: 'token_expired' });
    g.sweep(100 + REMEMBER_MS);
    expect(g.check('c1', token, 100 + REMEMBER_MS)).toEqual({ ok: false, why: 'token_invalid' });
    expect(g.size).toBe(0);
  });

  it('real tokens are 32 random bytes, base64url, and never the same', () => {
    const g = new Grants();
    const tokens = new Set(Array.from({ length: 100 }, () => g.issue('c', 's', 'a', 0, TTL).token));
    expect(tokens.size).toBe(100);
    for (const t of tokens) expect(t).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});

describe('clip ids', () => {
  it('the same words are one clip; any difference is another; the id says nothing of the words', () => {
    const b = { textZh: '请撤离', textEn: 'Leave', repeat: 3 };
    expect(clipId(b)).toBe(clipId({ ...b }));
    expect(clipId(b)).toMatch(/^[0-9a-f]{32}$/);
    for (const other of [{ ...b, textZh: '请撤离!' }, { ...b, textEn: undefined }, { ...b, repeat: 2 }, { ...b, template: 'evacuation' }]) expect(clipId(other)).not.toBe(clipId(b));
  });
});

describe('the URL host', () => {
  const lo = { address: '127.0.0.1', family: 'IPv4', internal: true } as const;
  const lan = { address: '192.168.1.10', family: 'IPv4', internal: false } as const;
  const v6 = { address: 'fe80::1', family: 'IPv6', internal: false } as const;
  const ifs = (...l: object[]) => ({ x: l }) as unknown as ReturnType<typeof import('node:os').networkInterfaces>;
  it('a listener on one address names it; on every interface, the first LAN IPv4; else loopback', () => {
    expect(urlHostFor('10.0.0.2', ifs(lan))).toBe('10.0.0.2');
    expect(urlHostFor('0.0.0.0', ifs(lo, v6, lan))).toBe('192.168.1.10');
    expect(urlHostFor('::', ifs(lan))).toBe('192.168.1.10');
    expect(urlHostFor('0.0.0.0', ifs(lo, v6))).toBe('127.0.0.1');
  });
});

describe('ip_speakers config', () => {
  const site = (extra: string): string => `
site: { id: demo, name: 示范社区 }
sensors: [{ id: rg1, kind: rain }]
${extra}
`;
  it('absent is no audio server; empty takes the broker host and port 8081', () => {
    expect(parseConfig(site('')).config!.ipSpeakers).toBeNull();
    expect(parseConfig(site('ip_speakers: {}')).config!.ipSpeakers).toEqual({ host: '0.0.0.0', port: 8081, urlHost: null, renderWaitS: 10, english: true });
    expect(parseConfig(site('mqtt: { host: 192.168.1.10 }\nip_speakers: {}')).config!.ipSpeakers!.host).toBe('192.168.1.10');
  });

  it('takes its keys', () => {
    expect(parseConfig(site('ip_speakers: { host: 127.0.0.1, port: 0, url_host: box.local, render_wait_s: 3, english: false }')).config!.ipSpeakers).toEqual({ host: '127.0.0.1', port: 0, urlHost: 'box.local', renderWaitS: 3, english: false });
  });

  it("refuses the broker's and the panel's ports, unknown keys and bad values, as path: message", () => {
    const p = (yaml: string): string[] => parseConfig(site(yaml)).problems.map(formatProblem);
    expect(p('ip_speakers: { port: 1883 }')).toEqual(["ip_speakers.port: must differ from the broker's and the panel's ports (1883, 8083) (line 4)"]);
    expect(p('panel: { port: 9000 }\nip_speakers: { port: 9000 }')).toEqual(["ip_speakers.port: must differ from the broker's and the panel's ports (1883, 8083, 9000) (line 5)"]);
    expect(p('ip_speakers: { prot: 1, render_wait_s: 0, url_host: "a b" }')).toEqual(
      expect.arrayContaining([expect.stringMatching(/^ip_speakers\.prot: unknown key/), expect.stringMatching(/^ip_speakers\.render_wait_s: must be >= 1/), expect.stringMatching(/^ip_speakers\.url_host: must match/)]),
    );
  });
});
