/** The one command validator (broker, uplink, panel) on a broadcast by template (issue 17). */
import { describe, expect, it } from 'vitest';
import { checkCommand } from '../../gateway/broker/payloads.ts';
import { BUILTIN_TEMPLATES } from '../../gateway/config/defaults.ts';

const buf = (s: string): Buffer => Buffer.from(s, 'utf8');
const templates = { ...BUILTIN_TEMPLATES, notice: {} };

describe('checkCommand: broadcast by template', () => {
  it('a template alone, or with words for its {text}, in either spelling', () => {
    expect(checkCommand(buf('{"type":"broadcast","template":"evacuation","zones":["site"]}'), 512, 'wang', 'officer', templates)).toEqual({
      ok: true,
      value: { type: 'broadcast', template: 'evacuation', zones: ['site'], source: 'officer', by: 'wang' },
    });
    expect(checkCommand(buf('{"type":"broadcast","template":"notice","text_zh":"停电","command_id":"c1"}'), 512, 'town', 'township', templates)).toEqual({
      ok: true,
      value: { type: 'broadcast', template: 'notice', textZh: '停电', commandId: 'c1', source: 'township', by: 'town' },
    });
  });

  it('words alone as before', () => {
    expect(checkCommand(buf('{"type":"broadcast","textZh":"撤离"}'), 512, 'wang', 'officer', templates)).toMatchObject({ ok: true, value: { textZh: '撤离' } });
  });

  it("an unknown template is refused with the site's list; neither words nor template is a schema refusal", () => {
    expect(checkCommand(buf('{"type":"broadcast","template":"launch"}'), 512, 'wang', 'officer', templates)).toEqual({
      ok: false,
      reason: 'unknown_template',
      detail: "template: no template 'launch' in this site (templates: evacuation, rainstorm, flood, fire, all_clear, test, notice)",
    });
    // An inherited key of a plain object is no template.
    expect(checkCommand(buf('{"type":"broadcast","template":"constructor"}'), 512, 'wang', 'officer', templates)).toMatchObject({ ok: false, reason: 'unknown_template' });
    expect(checkCommand(buf('{"type":"broadcast","zones":["site"]}'), 512, 'wang', 'officer', templates)).toEqual({ ok: false, reason: 'schema', detail: '/textZh is required without a template' });
  });

  it('a template id must be an id; without the list (no site at hand) any id passes and the planner refuses an unknown one', () => {
    expect(checkCommand(buf('{"type":"broadcast","template":"../x"}'), 512, 'wang', 'officer', templates)).toMatchObject({ ok: false, reason: 'schema' });
    expect(checkCommand(buf('{"type":"broadcast","template":"launch"}'), 512, 'wang', 'officer')).toMatchObject({ ok: true });
  });
});
