/**
 * Generating secret values from random bytes, uniformly over the alphabet (rejection sampling).
 * Pure: the caller supplies the random bytes (`crypto.randomBytes` in activities and the seeder).
 */
import type { SecretAlphabet } from './fleet-schema';

const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const UPPER = LOWER.toUpperCase();
const DIGITS = '0123456789';

/** The characters of each alphabet. `printable`: ASCII 0x21–0x7e (no space). */
export const SECRET_ALPHABET_CHARS: Record<SecretAlphabet, string> = {
  alphanumeric: UPPER + LOWER + DIGITS,
  hex: '0123456789abcdef',
  base64url: UPPER + LOWER + DIGITS + '-_',
  printable: Array.from({ length: 0x7e - 0x21 + 1 }, (_, i) => String.fromCharCode(0x21 + i)).join(''),
};

/** A `length`-character value over `alphabet`, every character equally likely. */
export function generateSecretValue(
  generate: { length: number; alphabet: SecretAlphabet },
  randomBytes: (size: number) => Uint8Array,
): string {
  const chars = SECRET_ALPHABET_CHARS[generate.alphabet];
  const limit = 256 - (256 % chars.length); // bytes at or above this would favour the first characters
  let out = '';
  while (out.length < generate.length) {
    for (const byte of randomBytes(Math.ceil((generate.length - out.length) * 1.25) + 8)) {
      if (byte < limit) out += chars[byte % chars.length];
      if (out.length === generate.length) break;
    }
  }
  return out;
}

/** What a generated ExternalId looks like (the seeder's and the rotation's): 32 hex characters. */
export const EXTERNAL_ID_FORMAT = { length: 32, alphabet: 'hex' } as const satisfies {
  length: number;
  alphabet: SecretAlphabet;
};
