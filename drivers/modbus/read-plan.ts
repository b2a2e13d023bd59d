/**
 * Coalesced reads: the registers a unit needs, grouped per table into as few requests as the
 * protocol allows (125 registers or 2000 bits per request, Modbus Application Protocol
 * V1.1b3 §6.1–6.4), bridging small gaps because one longer frame beats two round trips.
 */
import type { RegisterDef, Table } from './profile-types.ts';
import { typeWidth } from './profile-types.ts';

export interface ReadBlock {
  table: Table;
  address: number;
  count: number;
  registers: RegisterDef[];
}

const MAX_COUNT: Record<Table, number> = { coil: 2000, discrete: 2000, input: 125, holding: 125 };

export function planReads(registers: readonly RegisterDef[], maxGap = 8): ReadBlock[] {
  const blocks: ReadBlock[] = [];
  const byTable = new Map<Table, RegisterDef[]>();
  for (const r of registers) byTable.set(r.table, [...(byTable.get(r.table) ?? []), r]);
  for (const [table, regs] of byTable) {
    regs.sort((a, b) => a.address - b.address);
    let cur: ReadBlock | null = null;
    for (const r of regs) {
      const end = r.address + typeWidth(r.type);
      if (cur && r.address - (cur.address + cur.count) <= maxGap && end - cur.address <= MAX_COUNT[table]) {
        cur.count = Math.max(cur.count, end - cur.address);
        cur.registers.push(r);
      } else {
        cur = { table, address: r.address, count: end - r.address, registers: [r] };
        blocks.push(cur);
      }
    }
  }
  return blocks;
}

/** The words of one register inside a block's answer. */
export function wordsOf(block: ReadBlock, data: readonly number[], reg: RegisterDef): number[] {
  const at = reg.address - block.address;
  return data.slice(at, at + typeWidth(reg.type));
}
