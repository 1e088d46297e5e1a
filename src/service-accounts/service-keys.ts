import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** What every API key starts with, so that the HTTP transport tells one from an access token by a glance. */
export const SERVICE_KEY_PREFIX = 'imsk_';

const KEY = /^imsk_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;

/** A key's parts as stored: the prefix to find it by and the hash of its secret. */
export interface KeyParts {
  prefix: string;
  secretHash: string;
}

const sha256 = (secret: string): string => createHash('sha256').update(secret).digest('hex');

/** A new API key `imsk_<12 hex>_<43 base64url>` (256 random bits of secret) and what is stored of it. */
export function newServiceKey(): KeyParts & { key: string } {
  const prefix = randomBytes(6).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  return { key: `${SERVICE_KEY_PREFIX}${prefix}_${secret}`, prefix, secretHash: sha256(secret) };
}

/** Splits a presented key into its prefix and the hash of its secret; undefined when it is not of our shape. */
export function parseServiceKey(key: string): KeyParts | undefined {
  const match = KEY.exec(key);
  return match ? { prefix: match[1]!, secretHash: sha256(match[2]!) } : undefined;
}

/** Compares two hex hashes in constant time. */
export function sameHash(a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
}
