import type { Knex } from '@mikro-orm/knex';
import type { Database } from '../db/database';
import { badInput, notFound } from '../common/errors';
import { answer, rowsToRead, type Page } from '../common/paging';
import { id as idArg, optionalText } from '../common/validate';
import { MAX_REMARK } from '../groups/group.types';
import type { Viewer } from '../auth/context';
import { distinctPairs, pairKey } from '../auth/loaders';
import type { Notifier } from '../delivery/notifier';
import type { UsersService } from '../users/users.service';
import { newPrivateContact } from '../contacts/contact-rows';
import type { Friend } from './friend.types';

type FriendRow = { friend_id: string | number; conversation_id: string | number; remark: string | null; created_at: number; muted: number | boolean | null };

/** Friendships: made by accepting an application, listed, and removed by either side. */
export class FriendsService {
  constructor(
    private readonly db: Database,
    private readonly users: UsersService,
    private readonly notifier: Notifier,
  ) {}

  /**
   * Makes two users friends inside the caller's transaction: both friendship rows, their private
   * conversation (reused if they were friends before, so history and seqs continue) and a visible contact
   * for each. Returns the conversation id. Safe to repeat.
   */
  async befriend(trx: Knex.Transaction, a: string, b: string, now: number): Promise<string> {
    const [lo, hi] = BigInt(a) < BigInt(b) ? [a, b] : [b, a];
    let conversation = await trx('conversations').first('id').where({ user_lo: lo, user_hi: hi });
    if (!conversation) {
      await trx('conversations').insert({ type: 'PRIVATE', user_lo: lo, user_hi: hi, last_seq: 0, created_at: now });
      conversation = await trx('conversations').first('id').where({ user_lo: lo, user_hi: hi });
    }
    const conversationId = String(conversation.id);
    for (const [user, other] of [[a, b], [b, a]] as const) {
      const friendship = await trx('friendships').first('id').where({ user_id: user, friend_id: other });
      if (!friendship) {
        await trx('friendships').insert({ user_id: user, friend_id: other, conversation_id: conversationId, created_at: now });
      }
      const contact = await trx('contacts').first('id').where({ user_id: user, conversation_id: conversationId });
      if (contact) {
        await trx('contacts').where({ id: contact.id }).update({ hidden_seq: null, updated_at: now });
      } else {
        await trx('contacts').insert(newPrivateContact(user, conversationId, other, now));
      }
    }
    return conversationId;
  }

  /** True when `userId` has `otherId` as a friend. */
  async areFriends(userId: string, otherId: string): Promise<boolean> {
    return !!(await this.db.knex('friendships').first('id').where({ user_id: userId, friend_id: otherId }));
  }

  /** The private conversation of two friends; undefined when they are not friends. */
  async conversationOf(userId: string, otherId: string): Promise<string | undefined> {
    const row = await this.db.knex('friendships').first('conversation_id').where({ user_id: userId, friend_id: otherId });
    return row ? String(row.conversation_id) : undefined;
  }

  /** Those of `ids` who are not friends of `userId`, in one query (on `knex`, a caller's transaction if given). */
  async strangers(userId: string, ids: readonly string[], knex: Knex = this.db.knex): Promise<string[]> {
    if (ids.length === 0) return [];
    const rows = await knex('friendships').select('friend_id').where({ user_id: userId }).whereIn('friend_id', ids);
    const friends = new Set(rows.map((r: { friend_id: string | number }) => String(r.friend_id)));
    return ids.filter((id) => !friends.has(id));
  }

  /** Of (user, other) pairs, those who are friends, as `pairKey(user, friend)`, in one query. */
  async friendships(pairs: ReadonlyArray<readonly [string, string]>): Promise<Set<string>> {
    const rows = await this.db.knex('friendships').select('user_id', 'friend_id').whereIn(['user_id', 'friend_id'], distinctPairs(pairs));
    return new Set(rows.map((r: { user_id: string | number; friend_id: string | number }) => pairKey(String(r.user_id), String(r.friend_id))));
  }

  /** Ids of a user's friends. */
  async friendIds(userId: string): Promise<string[]> {
    const rows = await this.db.knex('friendships').select('friend_id').where({ user_id: userId });
    return rows.map((r: { friend_id: string | number }) => String(r.friend_id));
  }

  /** A page of the viewer's friends, newest friendship first, with the private conversation of each. */
  async list(viewer: Viewer, p: Page): Promise<Friend[]> {
    const query = this.query(viewer.userId).limit(rowsToRead(p));
    if (p.after !== null) {
      const last = await this.db.knex('friendships').first('id', 'created_at').where({ user_id: viewer.userId, friend_id: p.after });
      if (!last) throw badInput('after', 'is not your friend (any more): start again without after');
      // Friendships made in the same millisecond are ordered by row id.
      query.andWhere((q) => q.where('f.created_at', '<', last.created_at).orWhere((same) => same.where('f.created_at', last.created_at).andWhere('f.id', '<', last.id)));
    }
    return this.toFriends(answer(p, await query));
  }

  /** One friend of a user as that user sees it (for FriendAddedEvent). */
  async one(userId: string, friendId: string): Promise<Friend> {
    const [friend] = await this.toFriends(await this.query(userId).andWhere('f.friend_id', friendId));
    if (!friend) throw notFound('friend');
    return friend;
  }

  /** The viewer's private remark for a friend (null or blank clears it); only the viewer ever sees it. */
  async setRemark(viewer: Viewer, userIdArg: string, remarkArg: string | null | undefined): Promise<Friend> {
    const userId = idArg('userId', userIdArg);
    const remark = optionalText('remark', remarkArg ?? null, MAX_REMARK) ?? null;
    const changed = await this.db.knex('friendships').where({ user_id: viewer.userId, friend_id: userId }).update({ remark });
    if (changed === 0) throw notFound('friend');
    return this.one(viewer.userId, userId);
  }

  /** Ends a friendship on both sides; the conversation stays readable but hidden, and sending is refused. */
  async remove(viewer: Viewer, userIdArg: string): Promise<boolean> {
    const userId = idArg('userId', userIdArg);
    if (userId === viewer.userId) throw badInput('userId', 'is yourself');
    const now = Date.now();
    const removed = await this.db.knex.transaction(async (trx) => {
      const friendship = await trx('friendships').first('conversation_id').where({ user_id: viewer.userId, friend_id: userId });
      if (!friendship) return false;
      await trx('friendships')
        .where({ user_id: viewer.userId, friend_id: userId })
        .orWhere({ user_id: userId, friend_id: viewer.userId })
        .delete();
      const conversation = await trx('conversations').first('last_seq').where({ id: friendship.conversation_id });
      await trx('contacts')
        .where({ conversation_id: friendship.conversation_id })
        .update({ hidden_seq: conversation.last_seq, updated_at: now });
      return true;
    });
    if (!removed) throw notFound('friend');
    const users = await this.users.byIds([viewer.userId, userId]);
    await Promise.all([
      this.notifier.send([viewer.userId], { __typename: 'FriendRemovedEvent', user: users.get(userId)! }),
      this.notifier.send([userId], { __typename: 'FriendRemovedEvent', user: users.get(viewer.userId)! }),
    ]);
    return true;
  }

  /** A user's friendships with what a Friend shows, newest first. */
  private query(userId: string): Knex.QueryBuilder {
    return this.db
      .knex('friendships as f')
      .select('f.friend_id', 'f.conversation_id', 'f.remark', 'f.created_at', 'c.muted')
      .leftJoin('contacts as c', function join() {
        this.on('c.conversation_id', '=', 'f.conversation_id').andOn('c.user_id', '=', 'f.user_id');
      })
      .where('f.user_id', userId)
      .orderBy([{ column: 'f.created_at', order: 'desc' }, { column: 'f.id', order: 'desc' }]);
  }

  private async toFriends(rows: FriendRow[]): Promise<Friend[]> {
    const users = await this.users.byIds(rows.map((r) => String(r.friend_id)));
    return rows.flatMap((row) => {
      const user = users.get(String(row.friend_id));
      if (!user) return [];
      return [{
        user,
        conversationId: String(row.conversation_id),
        remark: row.remark,
        muted: !!row.muted,
        since: new Date(Number(row.created_at)),
      }];
    });
  }
}
