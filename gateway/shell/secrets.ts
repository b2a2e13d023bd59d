/**
 * Secrets are stored only as scrypt hashes: `scrypt$N$r$p$salt$hash`, salt and hash base64.
 * Verification runs scrypt off the event loop (crypto.scrypt is async) and compares in
 * constant time.
 */
import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/** The stored form of a secret: `scrypt$N$r$p$salt$hash` (the config schema checks it too). */
export const SCRYPT_HASH = /^scrypt\$(\d+)\$(\d+)\$(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/;

const scrypt = (secret: string, salt: Buffer, len: number, opts: ScryptOptions): Promise<Buffer> =>
  new Promise((resolve, reject) => scryptCb(secret, salt, len, opts, (err, key) => (err ? reject(err) : resolve(key))));

/** N = 2^14, r = 8, p = 1: the interactive-login parameters, about 50 ms on a Pi-class CPU. */
const DEFAULT = { N: 16384, r: 8, p: 1 };
const KEY_LEN = 32;

export async function hashSecret(secret: string, params = DEFAULT): Promise<string> {
  if (secret.length < 8) throw new RangeError('a secret needs at least 8 characters');
  const salt = randomBytes(16);
  const key = await scrypt(secret, salt, KEY_LEN, { ...params, maxmem: 64 * 1024 * 1024 });
  return `scrypt$${params.N}$${params.r}$${params.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

/** True if `secret` matches `stored`. A malformed stored hash never matches. */
export async function verifySecret(secret: string, stored: string): Promise<boolean> {
  const m = SCRYPT_HASH.exec(stored);
  if (!m) return false;
  const [N, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const expected = Buffer.from(m[5]!, 'base64');
  if (expected.length === 0 || N < 2 || (N & (N - 1)) !== 0) return false;
  try {
    const key = await scrypt(secret, Buffer.from(m[4]!, 'base64'), expected.length, { N, r, p, maxmem: 256 * 1024 * 1024 });
    return timingSafeEqual(key, expected);
  } catch {
    return false;
  }
}
