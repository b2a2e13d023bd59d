// drivers/modbus/read-plan.ts: coalesced reads bridge only the gaps the device has registers at.
import { describe, expect, it } from 'vitest';
import { planReads } from '../../drivers/modbus/read-plan.ts';
import { loadAllProfiles, registerOf } from '../../drivers/modbus/profiles.ts';

const node = loadAllProfiles().find((p) => p.model === 'shaobing-node')!;
const blocks = (names: string[], known = node.registers) => planReads(names.map((n) => registerOf(node, n)), undefined, known).map((b) => [b.table, b.address, b.count]);

describe('planReads', () => {
  it('bridges a gap the device has registers at (one frame for level and its status)', () => {
    expect(blocks(['level', 'level_status'])).toEqual([['input', 32, 3]]);
  });

  it('never bridges a hole in the map: the node answers 02 for inputs 10-15', () => {
    expect(blocks(['exceptions_sent', 'rain_tips'])).toEqual([['input', 9, 1], ['input', 16, 2]]);
  });

  it('bridges nothing when it does not know the device', () => {
    expect(planReads([registerOf(node, 'level'), registerOf(node, 'level_status')]).map((b) => b.count)).toEqual([1, 1]);
  });
});
