import { createHash, createSecretKey, randomBytes, randomUUID, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { Terminal } from '../common/enums';
import type { Viewer } from './context';

/** Claims of an access token: subject user, session id, terminal. */
interface AccessClaims {
  sub: string;
  sid: string;
  term: Terminal;
}

/** A verified access token's viewer, with when the token expires (what a socket is closed with 4401 at). */
export interface TokenViewer extends Viewer {
  /** Expiry of the access token, ms since the epoch. */
  tokenExpiresAt: number;
}

/** Signs and reads access tokens (HS256) and mints refresh tokens. */
export class Tokens {
  /**
   * Made once: given a string, jsonwebtoken tries it as a public key on every call before falling back to a
   * secret, which was a fifth of the platform's CPU per request.
   */
  private readonly secret: KeyObject;
  /**
   * Tokens already verified, until they expire: a client sends the same token with every request, and the
   * signature check is a measurable share of a busy platform's CPU. Whether the session is still live is
   * checked separately on every request.
   */
  private readonly verified = new Map<string, TokenViewer>();

  /**
   * @param secret HS256 key shared by every node
   * @param accessTtlSeconds @default 1800
   */
  constructor(
    secret: string,
    readonly accessTtlSeconds = 1800,
  ) {
    this.secret = createSecretKey(Buffer.from(secret, 'utf8'));
  }

  /** An access token for a session, with its expiry. */
  access(viewer: Viewer): { token: string; expiresAt: Date } {
    const token = jwt.sign({ sid: viewer.sessionId, term: viewer.terminal }, this.secret, {
      algorithm: 'HS256',
      subject: viewer.userId,
      expiresIn: this.accessTtlSeconds,
    });
    return { token, expiresAt: new Date(Date.now() + this.accessTtlSeconds * 1000) };
  }

  /** The viewer an access token names, or undefined when it is bad or expired. */
  verify(token: string): TokenViewer | undefined {
    const known = this.verified.get(token);
    if (known) {
      if (known.tokenExpiresAt > Date.now()) return known;
      this.verified.delete(token);
      return undefined;
    }
    try {
      const claims = jwt.verify(token, this.secret, { algorithms: ['HS256'] }) as Partial<AccessClaims> & { exp?: number };
      if (!claims.sub || !claims.sid || !claims.term || !(claims.term in Terminal) || !claims.exp) return undefined;
      const viewer: TokenViewer = { userId: claims.sub, sessionId: claims.sid, terminal: claims.term, tokenExpiresAt: claims.exp * 1000 };
      if (this.verified.size >= 50_000) this.verified.clear();
      this.verified.set(token, viewer);
      return viewer;
    } catch {
      return undefined;
    }
  }

  /** A new session id. */
  static sessionId(): string {
    return randomUUID();
  }

  /** A refresh token `<sessionId>.<secret>` and the hash of its secret, which is all that is stored. */
  static refresh(sessionId: string): { token: string; hash: string } {
    const secret = randomBytes(32).toString('base64url');
    return { token: `${sessionId}.${secret}`, hash: Tokens.hash(secret) };
  }

  /** Splits a refresh token; undefined when it is not of our shape. */
  static parseRefresh(token: string): { sessionId: string; hash: string } | undefined {
    const dot = token.indexOf('.');
    if (dot <= 0 || dot === token.length - 1 || token.length > 200) return undefined;
    return { sessionId: token.slice(0, dot), hash: Tokens.hash(token.slice(dot + 1)) };
  }

  /** Refresh secrets are 256 random bits, so a fast hash is enough to keep them out of the database. */
  private static hash(secret: string): string {
    return createHash('sha256').update(secret).digest('hex');
  }
}

/** Reads `Bearer <token>` (case-insensitive scheme). */
export function bearer(header: unknown): string | undefined {
  if (typeof header !== 'string') return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}
