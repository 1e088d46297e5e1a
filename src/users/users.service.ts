import type { Database } from '../db/database';
import { badInput, notFound } from '../common/errors';
import { optionalText, optionalUrl, text, intIn } from '../common/validate';
import { avatarUploadId } from '../uploads/media-urls';
import { moderated, type Moderation } from '../moderation/moderation';
import type { Avatars } from '../uploads/uploads.service';
import type { User, UpdateProfileInput } from './user.types';
import { UserEntity } from './user.entity';

type UserRow = { id: string | number; username: string; nickname: string; avatar_url: string | null; signature: string | null };

const COLUMNS = ['id', 'username', 'nickname', 'avatar_url', 'signature'];

const toUser = (row: UserRow): User => ({
  id: String(row.id),
  username: row.username,
  nickname: row.nickname,
  avatarUrl: row.avatar_url,
  signature: row.signature,
});

/** Public profiles: lookups in batches, search, and the viewer's own profile. */
export class UsersService {
  /**
   * @param moderation checks nicknames and signatures before they are stored
   * @param avatars when absent, avatarUploadId is refused (tests that build the service alone).
   */
  constructor(
    private readonly db: Database,
    private readonly moderation: Moderation,
    private readonly avatars?: Avatars,
  ) {}

  /** Profiles of many users in one query. */
  async byIds(ids: Iterable<string>): Promise<Map<string, User>> {
    const unique = [...new Set(ids)];
    if (unique.length === 0) return new Map();
    const rows: UserRow[] = await this.db.knex('users').select(COLUMNS).whereIn('id', unique);
    return new Map(rows.map((row) => [String(row.id), toUser(row)]));
  }

  /** One profile, or undefined. */
  async find(id: string): Promise<User | undefined> {
    return (await this.byIds([id])).get(id);
  }

  /** One profile, or NOT_FOUND. */
  async get(id: string): Promise<User> {
    const user = await this.find(id);
    if (!user) throw notFound('user');
    return user;
  }

  /** Users whose username or nickname starts with `query` (case-insensitive for usernames). */
  async search(query: string, first: number | null | undefined): Promise<User[]> {
    // '!' escapes LIKE wildcards the same way on SQLite and MySQL.
    const prefix = text('query', query, 1, 32).replace(/[!%_]/g, (c) => `!${c}`);
    const limit = intIn('first', first, 1, 50, 20);
    const rows: UserRow[] = await this.db
      .knex('users')
      .select(COLUMNS)
      .whereRaw(`username_key like ? escape '!'`, [`${prefix.toLowerCase()}%`])
      .orWhereRaw(`nickname like ? escape '!'`, [`${prefix}%`])
      .orderBy('username_key')
      .limit(limit);
    return rows.map(toUser);
  }

  /** Changes the viewer's profile; absent fields stay, empty optional ones are cleared. */
  async updateProfile(userId: string, input: UpdateProfileInput): Promise<User> {
    const em = this.db.em();
    const user = await em.findOneOrFail(UserEntity, userId);
    const context = { userId };
    if (input.nickname !== undefined && input.nickname !== null) user.nickname = await moderated(this.moderation, 'nickname', text('nickname', input.nickname, 1, 32), context);
    const replaced = user.avatarUrl;
    const avatarUrl = await avatarOf(this.avatars, userId, `user:${userId}`, input);
    if (avatarUrl !== undefined) user.avatarUrl = avatarUrl;
    const signature = await moderated(this.moderation, 'signature', optionalText('signature', input.signature, 200), context);
    if (signature !== undefined) user.signature = signature;
    user.updatedAt = Date.now();
    await em.flush();
    await releaseReplaced(this.avatars, replaced, user.avatarUrl);
    return { id: user.id, username: user.username, nickname: user.nickname, avatarUrl: user.avatarUrl, signature: user.signature };
  }
}

/**
 * The avatar column's new value from an input with avatarUrl or avatarUploadId (undefined: unchanged). An upload is
 * measured and attached to `target` as its avatar.
 */
export async function avatarOf(
  avatars: Avatars | undefined,
  ownerId: string,
  target: string,
  input: { avatarUrl?: string | null; avatarUploadId?: string | null },
): Promise<string | null | undefined> {
  if (input.avatarUploadId == null) return optionalUrl('avatarUrl', input.avatarUrl);
  if (input.avatarUrl != null) throw badInput('avatarUploadId', 'give at most one of avatarUrl and avatarUploadId');
  if (!avatars) throw badInput('avatarUploadId', 'uploads are not available on this server');
  return avatars.attachAvatar(ownerId, input.avatarUploadId, target);
}

/** Lets go of the upload an avatar column referred to, once the column refers to something else. */
export async function releaseReplaced(avatars: Avatars | undefined, before: string | null | undefined, after: string | null | undefined): Promise<void> {
  const old = avatarUploadId(before);
  if (old && avatars && old !== avatarUploadId(after)) await avatars.release(old);
}
