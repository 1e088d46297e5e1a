import type { Knex } from '@mikro-orm/knex';
import { userBanned } from '../admin/ban.errors';
import type { BansStore } from '../admin/bans.store';
import type { Database } from '../db/database';
import { isUniqueViolation } from '../db/errors';
import { badInput, conflict, unauthenticated, type AppError } from '../common/errors';
import { text } from '../common/validate';
import { Terminal } from '../common/enums';
import type { Notifier } from '../delivery/notifier';
import { CloseCode } from '../delivery/hub';
import { moderated, type Moderation } from '../moderation/moderation';
import { UserEntity } from '../users/user.entity';
import type { UsersService } from '../users/users.service';
import type { AuthPayload, LoginInput, RegisterInput } from './auth.types';
import type { Viewer } from './context';
import { hashPassword, verifyPassword } from './passwords';
import { SessionEntity } from './session.entity';
import type { Throttle } from './throttle';
import { Tokens, type TokenViewer } from './tokens';

const USERNAME = /^[A-Za-z0-9_.-]{3,32}$/;
const WRONG_CREDENTIALS = 'username or password is wrong';

/** Why a session ended; sent to its sockets in SessionEndedEvent. */
export type EndReason = 'logout' | 'replaced' | 'password_changed' | 'refresh_token_reused' | 'banned';

/**
 * Accounts and sessions. A session is one terminal of one user; logging in again on that terminal ends the
 * older session everywhere (refresh token, access token, sockets). A banned user gets no session: a ban ends
 * them all, and login and refreshToken answer FORBIDDEN (reason BANNED) while it holds.
 */
export class AuthService {
  /** Sessions known to be live, with when that was last checked; ended ones are dropped at once locally. */
  private readonly live = new Map<string, number>();

  /**
   * @param moderation checks the nickname before an account is created
   * @param refreshTtlSeconds lifetime of a refresh token @default 604800
   * @param liveCacheMs how long another node may keep honouring a session that was ended elsewhere @default 2000
   */
  constructor(
    private readonly db: Database,
    private readonly tokens: Tokens,
    private readonly users: UsersService,
    private readonly notifier: Notifier,
    private readonly throttle: Throttle,
    private readonly moderation: Moderation,
    private readonly bans: BansStore,
    private readonly refreshTtlSeconds = 7 * 86400,
    private readonly liveCacheMs = 2000,
  ) {}

  /** @param address the client's address, for the per-address limit */
  async register(input: RegisterInput, address: string): Promise<AuthPayload> {
    const username = input.username.trim();
    if (!USERNAME.test(username)) throw badInput('username', "must be 3-32 letters, digits, '_', '.' or '-'");
    if (input.password.length < 8 || input.password.length > 128) throw badInput('password', 'must be 8-128 characters');
    const nickname = await moderated(this.moderation, 'nickname', text('nickname', input.nickname, 1, 32), { userId: null });
    return this.throttle.register(address, async () => {
      const now = Date.now();
      const em = this.db.em();
      const user = em.create(UserEntity, {
        username,
        usernameKey: username.toLowerCase(),
        nickname,
        passwordHash: await hashPassword(input.password),
        role: 'USER',
        createdAt: now,
        updatedAt: now,
      });
      try {
        await em.flush();
      } catch (error) {
        if (isUniqueViolation(error)) throw conflict('username: already taken');
        throw error;
      }
      return this.openSession(user.id, input.terminal ?? Terminal.WEB, user.passwordHash);
    });
  }

  /** @param address the client's address, for the per-address limit of failures */
  login(input: LoginInput, address: string): Promise<AuthPayload> {
    return this.throttle.login(input.username, address, async () => {
      const em = this.db.em();
      const user = await em.findOne(UserEntity, { usernameKey: input.username.trim().toLowerCase() });
      // The same answer and roughly the same time whether the username exists or not.
      const ok = user ? await verifyPassword(user.passwordHash, input.password) : await hashPassword(input.password).then(() => false);
      if (!user || !ok) throw unauthenticated(WRONG_CREDENTIALS);
      return this.openSession(user.id, input.terminal ?? Terminal.WEB, user.passwordHash);
    });
  }

  /**
   * Rotates a refresh token. A token that was already rotated away ends its session (it may have leaked).
   * @param address the client's address, for the per-address limit of refused tokens
   */
  refresh(refreshToken: string, address: string): Promise<AuthPayload> {
    return this.throttle.refresh(address, () => this.rotate(refreshToken));
  }

  private async rotate(refreshToken: string): Promise<AuthPayload> {
    const parsed = Tokens.parseRefresh(refreshToken);
    const em = this.db.em();
    const session = parsed && (await em.findOne(SessionEntity, { id: parsed.sessionId }));
    // Only the holder of the session's current refresh token learns of a ban, whose session the ban ended.
    if (parsed && session && session.refreshHash === parsed.hash) await this.refuseBanned(session.user);
    if (!parsed || !session || session.endedAt || session.refreshExpiresAt < Date.now()) {
      throw unauthenticated('refreshToken: invalid or expired');
    }
    const next = Tokens.refresh(session.id);
    const rotated = await this.db
      .knex('sessions')
      .where({ id: session.id, refresh_hash: parsed.hash })
      .whereNull('ended_at')
      .update({ refresh_hash: next.hash, refresh_expires_at: Date.now() + this.refreshTtlSeconds * 1000 });
    if (rotated !== 1) {
      await this.end([{ id: session.id, userId: session.user }], 'refresh_token_reused');
      throw unauthenticated('refreshToken: already used; the session has ended');
    }
    const viewer: Viewer = { userId: session.user, sessionId: session.id, terminal: session.terminal as Terminal };
    this.markLive(viewer.sessionId, Date.now());
    return this.payload(viewer, next.token);
  }

  async logout(viewer: Viewer): Promise<boolean> {
    await this.end([{ id: viewer.sessionId, userId: viewer.userId }], 'logout');
    return true;
  }

  /**
   * Changes the password and ends the user's other sessions, in one transaction that first locks the user's row
   * as openSession does: a login verified against the old hash either commits its session before this (and it is
   * ended here) or finds the hash changed under the lock and is refused.
   */
  async changePassword(viewer: Viewer, oldPassword: string, newPassword: string): Promise<boolean> {
    if (newPassword.length < 8 || newPassword.length > 128) throw badInput('newPassword', 'must be 8-128 characters');
    const others = await this.throttle.changePassword(viewer.userId, async () => {
      const user = await this.db.em().findOneOrFail(UserEntity, viewer.userId);
      if (!(await verifyPassword(user.passwordHash, oldPassword))) throw badInput('oldPassword', 'is wrong');
      const passwordHash = await hashPassword(newPassword);
      return this.db.knex.transaction(async (trx) => {
        await this.lockUser(trx, viewer.userId);
        await trx('users').where({ id: viewer.userId }).update({ password_hash: passwordHash, updated_at: Date.now() });
        const live: Array<{ id: string }> = await trx('sessions')
          .select('id')
          .where({ user_id: viewer.userId })
          .whereNull('ended_at')
          .whereNot({ id: viewer.sessionId });
        await this.close(trx, live.map((s) => s.id), 'password_changed');
        return live;
      });
    });
    await this.announce(others.map((s) => ({ id: s.id, userId: viewer.userId })), 'password_changed');
    return true;
  }

  /**
   * Runs `work` (a ban's insert) and ends every live session of the user with `reason`, in one transaction that
   * first locks the user's row as openSession does: a concurrent login either committed its session before (and
   * it is ended here) or sees what `work` wrote. Then the sessions' sockets are told and closed with 4403.
   */
  async endAllSessions<T>(userId: string, reason: EndReason, work: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
    const { result, live } = await this.db.knex.transaction(async (trx) => {
      await this.lockUser(trx, userId);
      const result = await work(trx);
      const live: Array<{ id: string }> = await trx('sessions').select('id').where({ user_id: userId }).whereNull('ended_at');
      await this.close(trx, live.map((s) => s.id), reason);
      return { result, live };
    });
    await this.announce(live.map((s) => ({ id: s.id, userId })), reason);
    return result;
  }

  /** The viewer behind an access token whose session is still live, or undefined. */
  async authenticate(accessToken: string | undefined): Promise<TokenViewer | undefined> {
    return (await this.identify(accessToken)).viewer;
  }

  /**
   * Like {@link authenticate}, with, for an unexpired token whose session a ban ended while the ban holds, the
   * FORBIDDEN (reason BANNED) that operations needing a viewer answer instead of UNAUTHENTICATED, so that the
   * client learns why. Live sessions cost what authenticate costs; only such a token costs a second query.
   */
  async identify(accessToken: string | undefined): Promise<{ viewer?: TokenViewer; refusal?: AppError }> {
    const viewer = accessToken ? this.tokens.verify(accessToken) : undefined;
    if (!viewer) return {};
    const ended = await this.sessionEnd(viewer.sessionId);
    if (ended === undefined) return { viewer };
    if (ended !== 'banned') return {};
    const ban = (await this.bans.active('USER', [viewer.userId])).get(viewer.userId);
    return ban ? { refusal: userBanned(ban) } : {};
  }

  /** Why a session ended, or undefined while it is live; answered from the short live cache when it can be. */
  private async sessionEnd(sessionId: string): Promise<EndReason | undefined> {
    const checked = this.live.get(sessionId);
    if (checked !== undefined && Date.now() - checked < this.liveCacheMs) return undefined;
    const row: { ended_at: unknown; ended_reason: EndReason | null } | undefined = await this.db
      .knex('sessions')
      .first('ended_at', 'ended_reason')
      .where({ id: sessionId });
    if (!row || row.ended_at !== null) {
      this.live.delete(sessionId);
      // A session whose row is gone (its user was deleted) has ended as surely as a logged-out one.
      return row?.ended_reason ?? 'logout';
    }
    this.markLive(sessionId, Date.now());
    return undefined;
  }

  /**
   * Caches a session as live. Re-inserted so the map stays in order of checking, and entries too old to be
   * used are dropped from its front: it holds only the sessions checked within the last `liveCacheMs`.
   */
  private markLive(sessionId: string, now: number): void {
    this.live.delete(sessionId);
    this.live.set(sessionId, now);
    for (const [id, checked] of this.live) {
      if (now - checked < this.liveCacheMs) break;
      this.live.delete(id);
    }
  }

  /**
   * Of `sessionIds`, those that have ended, with why: the periodic re-check of a push node's sockets, in one
   * query per thousand sessions, bypassing the live cache (it exists to catch what the cache and the
   * SessionEndedEvent missed).
   */
  async endedSessions(sessionIds: readonly string[]): Promise<Map<string, EndReason>> {
    const ended = new Map<string, EndReason>();
    for (let i = 0; i < sessionIds.length; i += 1000) {
      const chunk = sessionIds.slice(i, i + 1000);
      const rows: Array<{ id: string; ended_at: unknown; ended_reason: EndReason | null }> = await this.db
        .knex('sessions')
        .select('id', 'ended_at', 'ended_reason')
        .whereIn('id', chunk);
      const found = new Set<string>();
      for (const row of rows) {
        found.add(row.id);
        if (row.ended_at !== null) ended.set(row.id, row.ended_reason ?? 'logout');
      }
      // A session whose row is gone (its user was deleted) has ended as surely as a logged-out one.
      for (const id of chunk) if (!found.has(id)) ended.set(id, 'logout');
    }
    for (const id of ended.keys()) this.live.delete(id);
    return ended;
  }

  /**
   * Ends the live sessions of this user on this terminal and opens a new one, in one transaction that first
   * locks the user's row: concurrent logins of one user take turns, so each ends the one before it and exactly
   * one session stays live (without the lock, two could read "none live" and both insert). Under the lock it
   * re-reads the password hash and refuses when it is no longer `verifiedHash`: the password was changed while
   * the caller verified against the old one.
   */
  private async openSession(userId: string, terminal: Terminal, verifiedHash: string): Promise<AuthPayload> {
    const now = Date.now();
    const sessionId = Tokens.sessionId();
    const refresh = Tokens.refresh(sessionId);
    const previous = await this.db.knex.transaction(async (trx) => {
      await this.lockUser(trx, userId);
      const current: { password_hash: string } | undefined = await trx('users').first('password_hash').where({ id: userId });
      if (current?.password_hash !== verifiedHash) throw unauthenticated(WRONG_CREDENTIALS);
      await this.refuseBanned(userId, trx);
      const live: Array<{ id: string }> = await trx('sessions').select('id').where({ user_id: userId, terminal }).whereNull('ended_at');
      await this.close(trx, live.map((s) => s.id), 'replaced');
      await trx('sessions').insert({
        id: sessionId,
        user_id: userId,
        terminal,
        refresh_hash: refresh.hash,
        created_at: now,
        refresh_expires_at: now + this.refreshTtlSeconds * 1000,
      });
      // Marked before commit: a login that replaces this one commits later, so its unmarking comes after.
      this.markLive(sessionId, now);
      return live;
    });
    await this.announce(previous.map((s) => ({ id: s.id, userId })), 'replaced');
    return this.payload({ userId, sessionId, terminal }, refresh.token);
  }

  /** FORBIDDEN (reason BANNED) while the user is banned. */
  private async refuseBanned(userId: string, knex: Knex = this.db.knex): Promise<void> {
    const ban = (await this.bans.active('USER', [userId], knex)).get(userId);
    if (ban) throw userBanned(ban);
  }

  /** A no-op update locks the user's row on MySQL and takes the database's write lock on SQLite. */
  private async lockUser(trx: Knex.Transaction, userId: string): Promise<void> {
    await trx('users').where({ id: userId }).update({ updated_at: trx.ref('updated_at') });
  }

  private async payload(viewer: Viewer, refreshToken: string): Promise<AuthPayload> {
    const access = this.tokens.access(viewer);
    return {
      accessToken: access.token,
      accessTokenExpiresAt: access.expiresAt,
      refreshToken,
      user: await this.users.get(viewer.userId),
    };
  }

  /** Ends sessions, then tells their sockets (which close with 4403 after the event). */
  private async end(sessions: Array<{ id: string; userId: string }>, reason: EndReason): Promise<void> {
    await this.close(this.db.knex, sessions.map((s) => s.id), reason);
    await this.announce(sessions, reason);
  }

  /** Marks sessions ended (on `knex`, a caller's transaction if given). */
  private async close(knex: Knex, ids: string[], reason: EndReason): Promise<void> {
    if (ids.length === 0) return;
    await knex('sessions').whereIn('id', ids).whereNull('ended_at').update({ ended_at: Date.now(), ended_reason: reason });
  }

  /** Forgets ended sessions here and tells their sockets, which close with 4403 after the event. */
  private async announce(sessions: Array<{ id: string; userId: string }>, reason: EndReason): Promise<void> {
    for (const session of sessions) {
      this.live.delete(session.id);
      await this.notifier.send(
        [session.userId],
        { __typename: 'SessionEndedEvent', reason },
        { onlySession: session.id, closeCode: CloseCode.sessionEnded },
      );
    }
  }
}
