/** Measures audio files with sox (Debian package sox), as a person checking a recording would. */
import { execFileSync } from 'node:child_process';

export interface SoxStats {
  lengthS: number;
  rms: number;
  maxAmplitude: number;
}

function statText(file: string, trim: [number, number] | null, extra: string[] = []): string {
  // sox writes stat to stderr; merged here.
  const args = [file, '-n', ...(trim ? ['trim', String(trim[0]), String(trim[1])] : []), 'stat', ...extra];
  return execFileSync('sh', ['-c', `sox "$@" 2>&1`, 'sox', ...args], { encoding: 'utf8' });
}

/** `sox FILE -n [trim from len] stat`: length, RMS amplitude and peak, 0…1 of full scale. */
export function soxStats(file: string, trim: [number, number] | null = null): SoxStats {
  const text = statText(file, trim);
  const num = (label: string): number => {
    const m = new RegExp(`${label}:\\s+(-?[\\d.]+)`).exec(text);
    if (!m) throw new Error(`sox stat of ${file} has no ${label}:\n${text}`);
    return Number(m[1]);
  };
  return { lengthS: num('Length \\(seconds\\)'), rms: num('RMS\\s+amplitude'), maxAmplitude: num('Maximum amplitude') };
}

/** The strongest frequency (Hz) in `trim` of the file: the peak of sox's `stat -freq` power spectrum. */
export function dominantHz(file: string, trim: [number, number]): number {
  let best = { hz: 0, power: -1 };
  for (const line of statText(file, trim, ['-freq']).split('\n')) {
    const m = /^([\d.]+)\s+([\d.]+)$/.exec(line.trim());
    if (m && Number(m[2]) > best.power) best = { hz: Number(m[1]), power: Number(m[2]) };
  }
  return best.hz;
}

/** Length in seconds by soxi (reads the header; a WAV with correct sizes). */
export function soxiLength(file: string): number {
  return Number(execFileSync('soxi', ['-D', file], { encoding: 'utf8' }).trim());
}
