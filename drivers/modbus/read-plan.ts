/**
 * Coalesced reads: the registers a unit needs, grouped per table into as few requests as the
 * protocol allows (125 registers or 2000 bits per request, Modbus Application Protocol
 * V1.1b3 §6.1–6.4), bridging small gaps because one longer frame beats two round trips, but
 * only gaps the device has registers at: a slave answers exception 02 for a request that touches
 * an address it lacks (§6.3, §7), so bridging a hole in the map fails every register in the
 * block (our node answers 02 for inputs 10–15; reading 0–19 in one frame failed them all).
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

/**
 * `known` lists every register the device has (its profile's registers): a gap is bridged only
 * where they cover each address in it. Without it, no gap is bridged.
 */
export function planReads(registers: readonly RegisterDef[], maxGap = 8, known: readonly RegisterDef[] = registers): ReadBlock[] {
  const covered = (table: Table, from: number, to: number): boolean => {
    for (let a = from; a < to; a++) if (!known.some((k) => k.table === table && a >= k.address && a < k.address + typeWidth(k.type))) return false;
    return true;
  };
  const blocks: ReadBlock[] = [];
  const byTable = new Map<Table, RegisterDef[]>();
  for (const r of registers) byTable.set(r.table, [...(byTable.get(r.table) ?? []), r]);
  for (const [table, regs] of byTable) {
    regs.sort((a, b) => a.address - b.address);
    let cur: ReadBlock | null = null;
    for (const r of regs) {
      const end = r.address + typeWidth(r.type);
      const gapFrom = cur ? cur.address + cur.count : 0;
      if (cur && r.address - gapFrom <= maxGap && end - cur.address <= MAX_COUNT[table] && covered(table, gapFrom, r.address)) {
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
