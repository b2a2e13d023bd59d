/** The broadcast audio keys of the site config (gateway/config/audio.ts). */
import { describe, expect, it } from 'vitest';
import { formatProblem, parseConfig } from '../../gateway/config/load.ts';

const site = (speaker: string, extra = ''): string => `
site: { id: demo, name: 示范社区 }
buses: [{ id: f1, type: tcp, host: 127.0.0.1 }]
sensors:
  - { id: rg1, kind: rain }
actuators:
  - { id: siren1, kind: siren, zones: [site], modbus: { bus: f1, unit: 1, profile: waveshare-modbus-rtu-relay } }
  - { id: spk1, kind: speaker, zones: [site]${speaker ? `, ${speaker}` : ''} }
${extra}
`;
const problems = (yaml: string): string[] => parseConfig(yaml).problems.map(formatProblem);
const config = (yaml: string) => {
  const r = parseConfig(yaml);
  if (!r.config) throw new Error(r.problems.map(formatProblem).join('\n'));
  return r.config;
};

describe('speaker audio', () => {
  it('a speaker without audio stays an MQTT speaker', () => {
    expect(config(site('')).actuators[1]!.audio).toBeNull();
  });

  it('fills the defaults of a file sink and of an ALSA sink', () => {
    expect(config(site('audio: { sink: file }')).actuators[1]!.audio).toEqual({ sink: 'file', device: 'default', folder: 'data/audio', keep: 200, monitor: null, english: true, amp: null });
    expect(config(site('audio: { sink: alsa, device: "hw:1,0", english: false }')).actuators[1]!.audio).toEqual({ sink: 'alsa', device: 'hw:1,0', folder: 'data/audio', keep: 200, monitor: null, english: false, amp: null });
    expect(config(site('audio: { sink: file, folder: /var/lib/shaobing/audio, monitor: "plughw:CARD=Device,DEV=0" }')).actuators[1]!.audio).toMatchObject({ folder: '/var/lib/shaobing/audio', monitor: 'plughw:CARD=Device,DEV=0' });
  });

  it('takes an amplifier relay on a bus, coil 0 by default', () => {
    expect(config(site('audio: { sink: alsa, amp: { bus: f1, unit: 1, profile: waveshare-modbus-rtu-relay, coil: 1 } }')).actuators[1]!.audio!.amp).toEqual({ bus: 'f1', unit: 1, profile: 'waveshare-modbus-rtu-relay', coil: 1 });
    expect(config(site('audio: { sink: alsa, amp: { bus: f1, unit: 2, profile: r421a08-relay } }')).actuators[1]!.audio!.amp).toEqual({ bus: 'f1', unit: 2, profile: 'r421a08-relay', coil: 0 });
  });

  it('refuses bad keys and values, all at once, as path: message', () => {
    const p = problems(site('audio: { sink: hdmi, device: "a b", volume: 3, english: yes }'));
    expect(p).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^actuators\[1\]\.audio\.sink: must be one of alsa, file/),
        expect.stringMatching(/^actuators\[1\]\.audio\.device: must match/),
        expect.stringMatching(/^actuators\[1\]\.audio\.volume: unknown key/),
        expect.stringMatching(/^actuators\[1\]\.audio\.english: must be boolean/),
      ]),
    );
    expect(problems(site('audio: { device: default }'))).toEqual([expect.stringMatching(/^actuators\[1\]\.audio\.sink: is required/)]);
  });

  it('keys that belong to the other sink are refused, not ignored', () => {
    expect(problems(site('audio: { sink: file, device: default }'))).toEqual([expect.stringMatching(/^actuators\[1\]\.audio\.device: only for sink alsa/)]);
    expect(problems(site('audio: { sink: alsa, monitor: default }'))).toEqual([expect.stringMatching(/^actuators\[1\]\.audio\.monitor: only for sink file/)]);
    expect(problems(site('audio: { sink: alsa, folder: x, keep: 3 }'))).toEqual([expect.stringMatching(/^actuators\[1\]\.audio\.folder: only for sink file/), expect.stringMatching(/^actuators\[1\]\.audio\.keep: only for sink file/)]);
  });

  it('audio is for speakers only; a speaker with audio has no modbus of its own', () => {
    const y = site('').replace("modbus: { bus: f1, unit: 1, profile: waveshare-modbus-rtu-relay } }", "modbus: { bus: f1, unit: 1, profile: waveshare-modbus-rtu-relay }, audio: { sink: file } }");
    expect(problems(y)).toEqual([expect.stringMatching(/^actuators\[0\]\.audio: only a speaker has audio/)]);
    expect(problems(site('audio: { sink: file }, modbus: { bus: f1, unit: 3, profile: waveshare-modbus-rtu-relay }'))).toEqual([expect.stringMatching(/^actuators\[1\]\.modbus: a speaker with audio is played by the box/)]);
  });

  it('an amplifier relay on an unknown bus, or on the siren’s own coil, is refused', () => {
    expect(problems(site('audio: { sink: file, amp: { bus: f9, unit: 1, profile: waveshare-modbus-rtu-relay } }'))).toEqual([expect.stringMatching(/^actuators\[1\]\.audio\.amp\.bus: unknown bus 'f9'/)]);
    expect(problems(site('audio: { sink: file, amp: { bus: f1, unit: 1, profile: waveshare-modbus-rtu-relay, coil: 0 } }'))).toEqual([expect.stringMatching(/^actuators\[1\]\.audio\.amp\.coil: coil 0 of unit 1 on bus f1 is already siren siren1's relay/)]);
    const two = site('audio: { sink: file, amp: { bus: f1, unit: 1, profile: waveshare-modbus-rtu-relay, coil: 1 } }').replace('actuators:\n', 'actuators:\n  - { id: spk2, kind: speaker, zones: [site], audio: { sink: file, amp: { bus: f1, unit: 1, profile: waveshare-modbus-rtu-relay, coil: 1 } } }\n');
    expect(problems(two)).toEqual([expect.stringMatching(/^actuators\[2\]\.audio\.amp\.coil: .* already speaker spk2's relay/)]);
  });
});

describe('site audio', () => {
  it('defaults: recordings in audio/, espeak-ng with the pinyin Mandarin voice', () => {
    expect(config(site('')).audio).toEqual({ folder: 'audio', recordings: {}, tts: { command: 'espeak-ng', voiceZh: 'cmn-latn-pinyin', voiceEn: 'en', speedWpm: 175 } });
  });

  it("a template's audio file is its Mandarin recording, in the audio folder; audio.recordings adds English and figures", () => {
    const c = config(site('', 'broadcasts: { templates: { evacuation: { audio: evac-zh.wav }, flood: { audio: flood.opus } } }\naudio:\n  folder: /srv/audio\n  recordings: { flood: { en: flood-en.opus, figures: false } }'));
    expect(c.audio.recordings).toEqual({
      evacuation: { zh: '/srv/audio/evac-zh.wav', en: null, figures: true },
      flood: { zh: '/srv/audio/flood.opus', en: '/srv/audio/flood-en.opus', figures: false },
    });
    // The same file named in both places is fine; two different ones are not.
    expect(problems(site('', 'broadcasts: { templates: { fire: { audio: fire.wav } } }\naudio: { recordings: { fire: fire.wav } }'))).toEqual([]);
    expect(problems(site('', 'broadcasts: { templates: { fire: { audio: fire.wav } } }\naudio: { recordings: { fire: { zh: other.wav } } }'))).toEqual([expect.stringMatching(/^audio\.recordings\.fire\.zh: broadcasts\.templates\.fire\.audio names its recording already \('fire\.wav'\)/)]);
    // English or figures alone need a Mandarin recording somewhere.
    expect(problems(site('', 'audio: { recordings: { test: { en: t.wav } } }'))).toEqual([expect.stringMatching(/^audio\.recordings\.test\.zh: is required: template 'test' names no recording/)]);
    // A site's own template can have a recording too.
    const own = config(site('', 'broadcasts: { templates: { curfew: { name_zh: 宵禁, name_en: curfew, text_zh: 宵禁, text_en: Curfew, audio: curfew.wav } } }'));
    expect(own.audio.recordings.curfew).toEqual({ zh: 'audio/curfew.wav', en: null, figures: true });
  });

  it('recordings by template id, as a file or with English and figures; paths under the folder unless absolute', () => {
    const c = config(site('', 'audio:\n  folder: /srv/audio\n  recordings: { evacuation: evac.wav, rainstorm: { zh: rain.opus, en: rain-en.opus, figures: false }, fire: /opt/fire.wav }\n  tts: { command: /usr/bin/espeak-ng, voice_zh: cmn, speed_wpm: 150 }'));
    expect(c.audio.recordings).toEqual({
      evacuation: { zh: '/srv/audio/evac.wav', en: null, figures: true },
      rainstorm: { zh: '/srv/audio/rain.opus', en: '/srv/audio/rain-en.opus', figures: false },
      fire: { zh: '/opt/fire.wav', en: null, figures: true },
    });
    expect(c.audio.tts).toEqual({ command: '/usr/bin/espeak-ng', voiceZh: 'cmn', voiceEn: 'en', speedWpm: 150 });
  });

  it('refuses a recording for no known template, a file that is no audio, bad TTS settings', () => {
    const p = problems(site('', 'audio:\n  recordings: { flood: flood.mp4, fire: { zh: f.wav, volume: 2 } }\n  tts: { voice_zh: "cmn; rm", speed_wpm: 20, pitch: 3 }'));
    expect(p.map((x) => x.replace(/ \(line \d+\)$/, ''))).toEqual([
      'audio.recordings.flood: must match \\.(wav|opus|flac|ogg)$',
      'audio.recordings.fire.volume: unknown key',
      'audio.tts.pitch: unknown key',
      'audio.tts.voice_zh: must match ^[A-Za-z0-9_+-]{1,64}$',
      'audio.tts.speed_wpm: must be >= 80',
    ]);
    // A site's own templates (broadcasts.templates, when the site has them) may have recordings too.
    expect(problems(site('', 'audio: { recordings: { evacuaton: e.wav } }'))).toEqual([expect.stringMatching(/^audio\.recordings\.evacuaton: no broadcast template 'evacuaton' \(templates: evacuation, rainstorm, flood, fire, all_clear, test\)/)]);
  });
});
