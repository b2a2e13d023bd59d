import type { DeviceProfile } from './profile-types.ts';

/**
 * The register a sensor reads: the one its config names, else the profile's `feeds` register
 * for the sensor's kind (a node profile feeds one register per role: rain, water level, smoke).
 */
export function sensorRegister(p: DeviceProfile, kind: string, named: string | null): string | undefined {
  if (named) return named;
  return p.registers.find((r) => r.feeds && (r.role === null || r.role === kind))?.name;
}
