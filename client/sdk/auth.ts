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
  /** Refresh on a timer (from sign-in until `pause`); a paused session still refreshes on demand. */
  private timed = false;

  constructor(
    private readonly http: HttpTransport,
    private readonly terminal: Terminal,
    /** Called when a refresh is refused: the session is over (logged out elsewhere, replaced, expired). */
    private readonly onEnded: (reason: string) => void,
    /** Called with every new pair, to persist them. */
    private readonly onTokens: (tokens: Tokens) => void,
  ) {}

  /** Registers on this session's terminal and keeps the tokens; resolves with the new user. */
  async register(input: { username: string; password: string; nickname: string }): Promise<UserFieldsFragment> {
    this.timed = true;
    return this.adopt((await this.http(RegisterDocument, { input: { ...input, terminal: this.terminal } })).register);
  }

  /** Signs in on this session's terminal (ending an older session there) and keeps the tokens. */
  async login(input: { username: string; password: string }): Promise<UserFieldsFragment> {
    this.timed = true;
    return this.adopt((await this.http(LoginDocument, { input: { ...input, terminal: this.terminal } })).login);
  }

  /** Takes over tokens persisted earlier (the caller asks who they belong to). */
  useTokens(tokens: Tokens): void {
    this.timed = true;
    this.store(tokens);
  }

  /** A copy of the current tokens, null when signed out. */
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

  /** Stops the refresh timer; the tokens stay (refreshed on demand). */
  pause(): void {
    this.timed = false;
    clearTimeout(this.timer);
  }

  /** Forgets the tokens and stops the refresh timer. */
  clear(): void {
    this.pause();
    this.current = null;
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
    this.onTokens(this.tokens()!);
    return payload.user;
  }

  private store(tokens: Tokens): void {
    this.current = { accessToken: tokens.accessToken, refreshToken: tokens.refreshToken, accessTokenExpiresAt: tokens.accessTokenExpiresAt };
    const expiresAt = Date.parse(tokens.accessTokenExpiresAt);
    // Short-lived tokens (tests, strict deployments) are refreshed at half their remaining life, others a minute ahead.
    const ahead = Math.min(REFRESH_AHEAD_MS, Math.max(0, (expiresAt - Date.now()) / 2));
    this.refreshAt = expiresAt - ahead;
    clearTimeout(this.timer);
    if (!this.timed) return;
    // A failed timed refresh is retried on demand (the next accessToken call); a refused one already ended the session.
    this.timer = setTimeout(() => void this.refresh().catch(() => undefined), Math.max(0, this.refreshAt - Date.now()));
  }
}
