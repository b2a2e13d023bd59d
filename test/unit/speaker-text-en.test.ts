/** English text normalisation (drivers/speaker/text-en.ts): unit symbols spelled out for espeak-ng. */
import { describe, expect, it } from 'vitest';
import { normaliseEn } from '../../drivers/speaker/text-en.ts';

describe('normaliseEn', () => {
  it.each([
    ['104.2 mm of rain in 3 h', '104.2 millimetres of rain in 3 hours'],
    ['104.2mm', '104.2 millimetres'],
    ['1 mm', '1 millimetre'],
    ['1 h', '1 hour'],
    ['river at 2.31 m', 'river at 2.31 metres'],
    ['rising 0.35 m in 10 min', 'rising 0.35 metres in 10 minutes'],
    ['20 mm/h', '20 millimetres per hour'],
    ['1,200 m³/s', '1,200 cubic metres per second'],
    ['1.5 m/s', '1.5 metres per second'],
    ['-3 °C', '-3 degrees Celsius'],
    ['38℃', '38 degrees Celsius'],
    ['0.15 dB/m', '0.15 decibels per metre'],
    ['45 s', '45 seconds'],
    ['35 cm', '35 centimetres'],
  ])('%s → %s', (input, spoken) => expect(normaliseEn(input)).toBe(spoken));

  it('letters that are not units after a figure stay', () => {
    expect(normaliseEn('Building 3 stairwell')).toBe('Building 3 stairwell');
    expect(normaliseEn('3 months, 2 hours, 5 sheds')).toBe('3 months, 2 hours, 5 sheds');
    expect(normaliseEn('v2.5m')).toBe('v2.5m');
  });

  it('times, percentages and plain numbers are left to espeak-ng, which reads them well', () => {
    expect(normaliseEn('At 14:05, 85% full, 12 people')).toBe('At 14:05, 85% full, 12 people');
  });

  it('the drill prefix loses its brackets', () => {
    expect(normaliseEn('[DRILL] red flood warning drill')).toBe('DRILL: red flood warning drill');
    expect(normaliseEn('【DRILL】 test')).toBe('DRILL: test');
  });
});
