import { describe, expect, it } from 'vitest';
import { formatProblem, parseConfig } from '../../gateway/config/load.ts';

const site = (panel: string): string => `
site: { id: demo, name: 示范社区 }
sensors:
  - { id: rg1, kind: rain }
${panel}
`;
const problems = (yaml: string): string[] => parseConfig(yaml).problems.map(formatProblem);

describe('panel config', () => {
  it('no panel key is no panel', () => {
    expect(parseConfig(site('')).config!.panel).toBeNull();
  });

  it('an empty panel key is the panel on the LAN, port 8080, 12 h idle', () => {
    expect(parseConfig(site('panel: {}')).config!.panel).toEqual({ host: '0.0.0.0', port: 8080, sessionIdleH: 12 });
  });

  it('takes host, port and idle hours', () => {
    expect(parseConfig(site('panel: { host: 127.0.0.1, port: 0, session_idle_h: 0.5 }')).config!.panel).toEqual({ host: '127.0.0.1', port: 0, sessionIdleH: 0.5 });
  });

  it('refuses unknown keys and bad values, all at once, as path: message', () => {
    const p = problems(site('panel: { prot: 80, port: 70000, session_idle_h: 0 }'));
    expect(p).toEqual(expect.arrayContaining([expect.stringMatching(/^panel\.prot: unknown key/), expect.stringMatching(/^panel\.port: /), expect.stringMatching(/^panel\.session_idle_h: /)]));
  });

  it("refuses the broker's port", () => {
    expect(problems(site('panel: { port: 1883 }'))).toEqual([expect.stringMatching(/^panel\.port: must differ from the broker's ports/)]);
  });
});
