import {
  LoginDocument,
  RefreshTokenDocument,
  RegisterDocument,
  type AuthFieldsFragment,
  type Terminal,
  type UserFieldsFragment,
} from '../generated/graphql';
import { ImError } from './errors';
import type { HttpTransport } from './http';

/** The tokens of a session, as login and refresh return them; persist them to resume later. */
export interface Tokens {
  accessToken: string;
  refreshToken: string;
  /** ISO date-time. */
  accessTokenExpiresAt: string;
}

/** The most time ahead of expiry at which an access token is refreshed. */
const REFRESH_AHEAD_MS = 60_000;

/**
 * The session's tokens: refreshed on a timer before the access token expires, and on demand (a 4401 close).
 * Refresh tokens rotate, and a used one ends the session if sent again, so only the newest pair is kept and
 * at most one refresh runs at a time (callers share its promise).
 */
export class Session {
  private current: Tokens | null = null;
  /** When the current access token is due for a refresh (epoch ms). */
  private refreshAt = 0;
  private refreshing: Promise<Tokens> | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** The signed-in user, once login, register or resume succeeded. */
  user: UserFieldsFragment | null = null;

  constructor(
    private readonly http: HttpTransport,
    private readonly terminal: Terminal,
    /** Called when a refresh is refused: the session is over (logged out elsewhere, replaced, expired). */
    private readonly onEnded: (reason: string) => void,
  ) {}

  async register(input: { username: string; password: string; nickname: string }): Promise<UserFieldsFragment> {
    return this.adopt((await this.http(RegisterDocument, { input: { ...input, terminal: this.terminal } })).register);
  }

  async login(input: { username: string; password: string }): Promise<UserFieldsFragment> {
    return this.adopt((await this.http(LoginDocument, { input: { ...input, terminal: this.terminal } })).login);
  }

  /** Takes over tokens persisted earlier; the user is filled in by the caller (a `me` query). */
  useTokens(tokens: Tokens): void {
    this.store(tokens);
  }

  tokens(): Tokens | null {
    return this.current && { ...this.current };
  }

  /** A valid access token: refreshed first when it is due. */
  async accessToken(): Promise<string> {
    if (!this.current) throw new ImError('not signed in: call login, register or resume first', 'UNAUTHENTICATED', false);
    if (Date.now() >= this.refreshAt) return (await this.refresh()).accessToken;
    return this.current.accessToken;
  }

  /**
   * A token to retry with after the server refused `refused` as UNAUTHENTICATED: the newer one when a refresh
   * already replaced it, else a refreshed one (its expiry may have come early by the server's clock; a session
   * that ended refuses the refresh, which ends it here too).
   */
  async renew(refused: string): Promise<string> {
    if (this.current && this.current.accessToken !== refused) return this.current.accessToken;
    return (await this.refresh()).accessToken;
  }

  /** Rotates the tokens; concurrent callers share one refresh. */
  refresh(): Promise<Tokens> {
    return (this.refreshing ??= this.rotate().finally(() => (this.refreshing = undefined)));
  }

  /** Forgets the tokens and stops the refresh timer. */
  clear(): void {
    clearTimeout(this.timer);
    this.current = null;
    this.user = null;
  }

  private async rotate(): Promise<Tokens> {
    const sent = this.current;
    if (!sent) throw new ImError('not signed in', 'UNAUTHENTICATED', false);
    try {
      const answer = (await this.http(RefreshTokenDocument, { refreshToken: sent.refreshToken })).refreshToken;
      // Signed out (or replaced) while the refresh was under way: its tokens are not ours to keep.
      if (this.current !== sent) throw new ImError('the session changed during the refresh', 'UNAUTHENTICATED', false);
      this.adopt(answer);
      return this.current!;
    } catch (error) {
      if (error instanceof ImError && error.code === 'UNAUTHENTICATED' && this.current === sent) {
        this.clear();
        this.onEnded(error.message);
      }
      throw error;
    }
  }

  private adopt(payload: AuthFieldsFragment): UserFieldsFragment {
    this.store(payload);
    this.user = payload.user;
    return payload.user;
  }

  private store(tokens: Tokens): void {
    this.current = { accessToken: tokens.accessToken, refreshToken: tokens.refreshToken, accessTokenExpiresAt: tokens.accessTokenExpiresAt };
    const expiresAt = Date.parse(tokens.accessTokenExpiresAt);
    // Short-lived tokens (tests, strict deployments) are refreshed at half their remaining life, others a minute ahead.
    const ahead = Math.min(REFRESH_AHEAD_MS, Math.max(0, (expiresAt - Date.now()) / 2));
    this.refreshAt = expiresAt - ahead;
    clearTimeout(this.timer);
    // A failed timed refresh is retried on demand (the next accessToken call); a refused one already ended the session.
    this.timer = setTimeout(() => void this.refresh().catch(() => undefined), Math.max(0, this.refreshAt - Date.now()));
  }
}
