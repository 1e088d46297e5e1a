import type { Knex } from '@mikro-orm/knex';
import { groupBanned } from '../admin/ban.errors';
import { activeBanOf, joinUnliftedBan, type BanRecord } from '../admin/bans.store';
import type { Database } from '../db/database';
import { badInput, conflict, forbidden, notFound } from '../common/errors';
import { answer, rowsToRead, type Page } from '../common/paging';
import { id as idArg, idList, optionalText, text } from '../common/validate';
import type { Viewer } from '../auth/context';
import { distinctPairs, pairKey } from '../auth/loaders';
import { groupPendingKey } from '../applications/application.entity';
import type { Notifier } from '../delivery/notifier';
import { GroupChange } from '../events/event.types';
import type { FriendsService } from '../friends/friends.service';
import { moderated, type Moderation } from '../moderation/moderation';
import type { PresenceService } from '../presence/presence.service';
import type { Avatars } from '../uploads/uploads.service';
import type { User } from '../users/user.types';
import { avatarOf, releaseReplaced, type UsersService } from '../users/users.service';
import { GroupRole, MAX_DISPLAY_NAME, MAX_GROUP_MEMBERS, MAX_REMARK, type CreateGroupInput, type Group, type GroupMember, type UpdateGroupInput } from './group.types';

type GroupRow = {
  id: string | number;
  conversation_id: string | number;
  name: string;
  avatar_url: string | null;
  notice: string | null;
  owner_id: string | number;
  muted_all: number | boolean;
  dissolved_at: number | string | null;
  created_at: number | string;
};

/** A user's standing in a group, as every permission check needs it. */
export interface GroupStanding {
  groupId: string;
  conversationId: string;
  dissolved: boolean;
  /** Whether only the owner and admins may send. */
  mutedAll: boolean;
  /** null when the user is not a member. */
  role: GroupRole | null;
  /** The user's profile while a member, so that the send path needs no second lookup for the sender. */
  profile: User | null;
  /** The group's active ban, read in the same statement: a banned group takes no sends and no new members. */
  ban: BanRecord | null;
}

/**
 * Up to this many members travel inside a GroupEvent. A larger group's member list is left out of the envelope
 * and loaded, batched per node, only by subscribers that select it: otherwise each join to a 3,000-member
 * group would be a half-megabyte envelope per node per new member.
 */
const INLINE_EVENT_MEMBERS = 100;

/** Roles that moderate a group: edit it, answer applications, remove members, recall any message. */
export const MODERATORS: readonly GroupRole[] = [GroupRole.OWNER, GroupRole.ADMIN];

/**
 * Groups and their members. Each member has a GROUP contact whose visible seq range starts at the conversation's
 * lastSeq when they join (no history from before) and ends at lastSeq when they leave, are removed or the group is
 * dissolved (nothing after). Rejoining opens a fresh range from the lastSeq of that moment, so the earlier
 * membership's messages are no longer shown: one contact row holds one range.
 */
export class GroupsService {
  constructor(
    private readonly db: Database,
    private readonly users: UsersService,
    private readonly friends: FriendsService,
    private readonly presence: PresenceService,
    private readonly notifier: Notifier,
    /** Checks names and notices before they are stored. */
    private readonly moderation: Moderation,
    private readonly avatars?: Avatars,
  ) {}

  /** The viewer's groups that are not dissolved, oldest first. */
  async list(viewer: Viewer, p: Page): Promise<Group[]> {
    const query = this.joined(viewer.userId).whereNull('g.dissolved_at').limit(rowsToRead(p));
    if (p.after !== null) query.andWhere('g.id', '>', p.after);
    return this.toGroups(answer(p, await query));
  }

  /** Any group by id, or null; what a viewer may read of it is the field resolvers' business. */
  async find(groupIdArg: string): Promise<Group | null> {
    const [group] = await this.toGroups(await this.db.knex('groups').select('*').where({ id: idArg('id', groupIdArg) }));
    return group ?? null;
  }

  /** Of (user, group) pairs, those where the user is a member of the group and it is not dissolved, in one query. */
  async memberships(pairs: ReadonlyArray<readonly [string, string]>): Promise<Set<string>> {
    const rows = await this.db
      .knex('group_members as gm')
      .join('groups as g', 'g.id', 'gm.group_id')
      .select('gm.user_id as a', 'gm.group_id as b')
      .whereNull('g.dissolved_at')
      .whereIn(['gm.user_id', 'gm.group_id'], distinctPairs(pairs));
    return pairSet(rows);
  }

  /**
   * Of (viewer, user) pairs, those who may see each other's presence: friends, or fellow members of a group that
   * is not dissolved (a dissolved group relates nobody any more). Two queries for any number of pairs.
   */
  async acquaintances(pairs: ReadonlyArray<readonly [string, string]>): Promise<Set<string>> {
    const [viewerIds, userIds] = sides(pairs);
    const [friends, fellows] = await Promise.all([
      this.friends.friendships(pairs),
      this.db
        .knex('group_members as a')
        .join('group_members as b', 'b.group_id', 'a.group_id')
        .join('groups as g', 'g.id', 'a.group_id')
        .distinct('a.user_id as a', 'b.user_id as b')
        .whereNull('g.dissolved_at')
        // The sides let the database find both members by index; the pairs keep only those asked.
        .whereIn('a.user_id', viewerIds)
        .whereIn('b.user_id', userIds)
        .whereIn(['a.user_id', 'b.user_id'], distinctPairs(pairs)),
    ]);
    return new Set([...friends, ...pairSet(fellows)]);
  }

  /** Groups by id, for contacts and applications; members are left to the batched field resolvers. */
  async views(groupIds: readonly string[]): Promise<Map<string, Group>> {
    if (groupIds.length === 0) return new Map();
    const groups = await this.toGroups(await this.db.knex('groups').select('*').whereIn('id', [...new Set(groupIds)]));
    return new Map(groups.map((g) => [g.id, g]));
  }

  /**
   * The members of each group, in the order of `groupIds`: owner first, then admins, then by joining time. Their
   * users are marked acquainted: a member list reaches only the group's current members (the `members` field
   * resolver checks), who may see their fellow members' presence.
   */
  async membersOf(groupIds: readonly string[]): Promise<GroupMember[][]> {
    const rows: Array<{ group_id: string | number; user_id: string | number; role: GroupRole; display_name: string | null; joined_at: number | string }> = await this.db
      .knex('group_members')
      .select('group_id', 'user_id', 'role', 'display_name', 'joined_at')
      .whereIn('group_id', [...new Set(groupIds)])
      .orderBy('id');
    const profiles = await this.users.byIds(rows.map((r) => String(r.user_id)));
    const rank = { [GroupRole.OWNER]: 0, [GroupRole.ADMIN]: 1, [GroupRole.MEMBER]: 2 };
    const byGroup = new Map<string, GroupMember[]>();
    for (const row of rows.sort((a, b) => rank[a.role] - rank[b.role])) {
      const user = profiles.get(String(row.user_id));
      if (!user) continue;
      const list = byGroup.get(String(row.group_id)) ?? [];
      list.push({ user: { ...user, acquainted: true }, role: row.role, displayName: row.display_name, joinedAt: new Date(Number(row.joined_at)) });
      byGroup.set(String(row.group_id), list);
    }
    return groupIds.map((id) => byGroup.get(id) ?? []);
  }

  /** How many members each group has, in the order of `groupIds`, with one grouped count. */
  async memberCounts(groupIds: readonly string[]): Promise<number[]> {
    const rows = await this.db.knex('group_members').select('group_id').count({ n: '*' }).whereIn('group_id', [...new Set(groupIds)]).groupBy('group_id');
    const counts = new Map(rows.map((r: Record<string, unknown>) => [String(r.group_id), Number(r.n)]));
    return groupIds.map((id) => counts.get(id) ?? 0);
  }

  /** Ids of a group's members, or only of those with one of `roles`. */
  async memberIds(groupId: string, roles?: readonly GroupRole[]): Promise<string[]> {
    const query = this.db.knex('group_members').select('user_id').where({ group_id: groupId });
    if (roles) query.whereIn('role', roles);
    return (await query).map((r: { user_id: string | number }) => String(r.user_id));
  }

  /** Ids of the groups that a user moderates (owns or administers). */
  async moderatedBy(userId: string): Promise<string[]> {
    const rows = await this.db.knex('group_members').select('group_id').where({ user_id: userId }).whereIn('role', MODERATORS);
    return rows.map((r: { group_id: string | number }) => String(r.group_id));
  }

  /** Where a user stands in a group (and whether it is banned), with one query; undefined when the group does not exist. */
  async standing(groupId: string, userId: string, knex: Knex = this.db.knex): Promise<GroupStanding | undefined> {
    const query = knex('groups as g')
      .leftJoin('group_members as gm', (on) => on.on('gm.group_id', '=', 'g.id').andOnVal('gm.user_id', '=', userId))
      .leftJoin('users as u', 'u.id', 'gm.user_id')
      .where('g.id', groupId);
    const row = await joinUnliftedBan(query, 'GROUP', 'g.id').first(
      'g.conversation_id',
      'g.dissolved_at',
      'g.muted_all',
      'gm.role',
      'u.username',
      'u.nickname',
      'u.avatar_url',
      'u.signature',
    );
    if (!row) return undefined;
    return {
      groupId,
      conversationId: String(row.conversation_id),
      dissolved: row.dissolved_at != null,
      mutedAll: !!row.muted_all,
      ban: activeBanOf(row) ?? null,
      role: row.role ?? null,
      profile: row.role
        ? { id: userId, username: row.username, nickname: row.nickname, avatarUrl: row.avatar_url, signature: row.signature }
        : null,
    };
  }

  /** Creates a group owned by the viewer with some of the viewer's friends; every member hears CREATED. */
  async create(viewer: Viewer, input: CreateGroupInput): Promise<Group> {
    const name = await moderated(this.moderation, 'name', text('name', input.name, 1, 32), { userId: viewer.userId });
    const invited = idList('memberIds', input.memberIds ?? []).filter((id) => id !== viewer.userId);
    if (invited.length + 1 > MAX_GROUP_MEMBERS) throw badInput('memberIds', `a group holds at most ${MAX_GROUP_MEMBERS} members, you included`);
    const strangers = await this.friends.strangers(viewer.userId, invited);
    if (strangers.length) throw badInput('memberIds', `can only add your friends; not your friends: ${strangers.slice(0, 10).join(', ')}`);
    const now = Date.now();
    const groupId = await this.db.knex.transaction(async (trx) => {
      const [conversationId] = await trx('conversations').insert({ type: 'GROUP', last_seq: 0, created_at: now });
      const [groupId] = await trx('groups').insert({
        conversation_id: conversationId,
        name,
        owner_id: viewer.userId,
        created_at: now,
        updated_at: now,
      });
      const members = [{ userId: viewer.userId, role: GroupRole.OWNER }, ...invited.map((userId) => ({ userId, role: GroupRole.MEMBER }))];
      await this.admit(trx, { groupId: String(groupId), conversationId: String(conversationId) }, members, now);
      return String(groupId);
    });
    return this.announce(GroupChange.CREATED, groupId);
  }

  /** Owner or admin: changes the name, avatar or notice; every member hears UPDATED. */
  async update(viewer: Viewer, groupIdArg: string, input: UpdateGroupInput): Promise<Group> {
    const groupId = idArg('id', groupIdArg);
    const name = input.name == null ? undefined : text('name', input.name, 1, 32);
    const notice = optionalText('notice', input.notice, 1000);
    // Texts are moderated and an upload claimed only for someone who may edit: the moderation webhook and
    // storage are not for anyone else, whose refusal the transaction below names after checking again under
    // the lock. Both happen outside it: they wait on a webhook or on storage.
    const standing = await this.standing(groupId, viewer.userId);
    const mayEdit = !!standing?.role && !standing.dissolved && MODERATORS.includes(standing.role);
    const changes: Record<string, string | null> = {};
    let avatarUrl: string | null | undefined;
    if (mayEdit) {
      const context = { userId: viewer.userId };
      if (name !== undefined) changes.name = await moderated(this.moderation, 'name', name, context);
      const moderatedNotice = await moderated(this.moderation, 'notice', notice, context);
      if (moderatedNotice !== undefined) changes.notice = moderatedNotice;
      avatarUrl = await avatarOf(this.avatars, viewer.userId, `group:${groupId}`, input);
      if (avatarUrl !== undefined) changes.avatar_url = avatarUrl;
    }
    const { result: replaced } = await this.change(viewer, 'id', groupIdArg, MODERATORS, 'only the owner and admins may edit the group', async (trx, group) => {
      const before = (await trx('groups').first('avatar_url').where({ id: group.groupId })) as { avatar_url: string | null } | undefined;
      if (Object.keys(changes).length) await trx('groups').where({ id: group.groupId }).update(changes);
      return before?.avatar_url;
    });
    if (avatarUrl !== undefined) await releaseReplaced(this.avatars, replaced, avatarUrl);
    return this.announce(GroupChange.UPDATED, groupId);
  }

  /**
   * Any member adds friends of theirs; users who already belong are ignored (inviting is idempotent). Everyone,
   * the new members included, hears one MEMBER_JOINED per new member.
   */
  async invite(viewer: Viewer, groupIdArg: string, userIdsArg: readonly string[]): Promise<Group> {
    const userIds = idList('userIds', userIdsArg);
    if (userIds.length === 0 || userIds.length > MAX_GROUP_MEMBERS) throw badInput('userIds', `name 1-${MAX_GROUP_MEMBERS} users`);
    const { groupId, result: added } = await this.change(viewer, 'groupId', groupIdArg, Object.values(GroupRole), '', async (trx, group, now) => {
      if (group.ban) throw groupBanned('groupId', group.ban);
      const present = new Set((await trx('group_members').select('user_id').where({ group_id: group.groupId }).whereIn('user_id', userIds)).map(
        (r: { user_id: string | number }) => String(r.user_id),
      ));
      const fresh = userIds.filter((id) => !present.has(id));
      const strangers = await this.friends.strangers(viewer.userId, fresh, trx);
      if (strangers.length) throw badInput('userIds', `can only invite your friends; not your friends: ${strangers.slice(0, 10).join(', ')}`);
      await this.admit(trx, group, fresh.map((userId) => ({ userId, role: GroupRole.MEMBER })), now);
      return fresh;
    });
    return added.length ? this.announce(GroupChange.MEMBER_JOINED, groupId, { members: added }) : this.loaded(groupId);
  }

  /**
   * Locks a group's row until the transaction ends, as every membership change does first, before it touches
   * applications or members: one order for all of them, so that none deadlocks another. False when there is no such group.
   */
  async lock(trx: Knex.Transaction, groupId: string, now: number): Promise<boolean> {
    return (await trx('groups').where({ id: groupId }).update({ updated_at: now })) === 1;
  }

  /**
   * Adds an accepted applicant inside the caller's transaction (the application's answer), which has taken
   * {@link lock} first. Returns false when the applicant is already a member.
   */
  async admitApplicant(trx: Knex.Transaction, groupId: string, applicantId: string, now: number): Promise<boolean> {
    const standing = await this.standing(groupId, applicantId, trx);
    if (!standing) throw notFound('group');
    if (standing.dissolved) throw forbidden('id: the group was dissolved');
    if (standing.ban) throw groupBanned('id', standing.ban);
    if (standing.role) return false;
    await this.admit(trx, standing, [{ userId: applicantId, role: GroupRole.MEMBER }], now);
    return true;
  }

  /**
   * Bans or unbans a group for an admin: `work` (the ban's SQL) runs in a transaction that first takes the group's
   * lock, as every membership change does, so a join either committed before or sees the ban. Every member then
   * hears BANNED (the group carrying the new ban) or UNBANNED. Returns the ban `work` stored or lifted; NOT_FOUND
   * when there is no such group.
   */
  async setBan(groupIdArg: string, banned: boolean, work: (trx: Knex.Transaction, groupId: string) => Promise<BanRecord>): Promise<BanRecord> {
    const groupId = idArg('groupId', groupIdArg);
    const ban = await this.db.knex.transaction(async (trx) => {
      if (!(await this.lock(trx, groupId, Date.now()))) throw notFound('group');
      return work(trx, groupId);
    });
    await this.announce(banned ? GroupChange.BANNED : GroupChange.UNBANNED, groupId, { ban: banned ? ban : null });
    return ban;
  }

  /** Tells every member (the new ones included) that members joined, one MEMBER_JOINED each. */
  async announceJoined(groupId: string, userIds: string[]): Promise<void> {
    await this.announce(GroupChange.MEMBER_JOINED, groupId, { members: userIds });
  }

  /**
   * The owner removes anyone but themself; an admin removes plain members. The removed member keeps the history
   * up to now, hears MEMBER_LEFT with everyone else, and the contact leaves their list.
   */
  async removeMember(viewer: Viewer, groupIdArg: string, userIdArg: string): Promise<Group> {
    const userId = idArg('userId', userIdArg);
    const { groupId } = await this.change(viewer, 'groupId', groupIdArg, MODERATORS, 'only the owner and admins may remove members', async (trx, group, now) => {
      if (userId === viewer.userId) {
        throw badInput('userId', group.role === GroupRole.OWNER ? 'the owner cannot remove themself; dissolve the group instead' : 'is you; use leaveGroup');
      }
      const target = await trx('group_members').first('role').where({ group_id: group.groupId, user_id: userId });
      if (!target) throw notFound('member');
      if (group.role === GroupRole.ADMIN && target.role !== GroupRole.MEMBER) throw forbidden('userId: admins may only remove plain members');
      await this.release(trx, group, userId, now);
    });
    return this.announce(GroupChange.MEMBER_LEFT, groupId, { members: [userId], alsoTo: [userId] });
  }

  /** A member or admin leaves; the owner must dissolve the group (or hand it over) instead. */
  async leave(viewer: Viewer, groupIdArg: string): Promise<boolean> {
    const refusal = 'the owner cannot leave; dissolve the group or transfer ownership first';
    const { groupId } = await this.change(viewer, 'groupId', groupIdArg, [GroupRole.ADMIN, GroupRole.MEMBER], refusal, (trx, group, now) =>
      this.release(trx, group, viewer.userId, now),
    );
    await this.announce(GroupChange.MEMBER_LEFT, groupId, { members: [viewer.userId], alsoTo: [viewer.userId] });
    return true;
  }

  /**
   * Owner only. Members keep their rows and contacts, so the group and its history stay readable to them, but every
   * contact's range is closed here and nothing can change or be sent any more; pending applications are rejected.
   */
  async dissolve(viewer: Viewer, groupIdArg: string): Promise<boolean> {
    const { groupId } = await this.change(viewer, 'groupId', groupIdArg, [GroupRole.OWNER], 'only the owner may dissolve the group', async (trx, group, now) => {
      await trx('groups').where({ id: group.groupId }).update({ dissolved_at: now });
      const lastSeq = await this.lastSeq(trx, group.conversationId);
      await trx('contacts').where({ conversation_id: group.conversationId }).whereNull('visible_to_seq').update({ visible_to_seq: lastSeq, updated_at: now });
      await trx('applications')
        .where({ group_id: group.groupId, status: 'PENDING' })
        .update({ status: 'REJECTED', pending_key: null, updated_at: now });
    });
    await this.announce(GroupChange.DISSOLVED, groupId);
    return true;
  }

  /** Owner only: makes a member an admin or an admin a plain member; everyone hears UPDATED naming that member. */
  async setRole(viewer: Viewer, groupIdArg: string, userIdArg: string, role: GroupRole): Promise<Group> {
    if (role === GroupRole.OWNER) throw badInput('role', 'must be ADMIN or MEMBER; use transferGroupOwnership to hand the group over');
    return this.reassign(viewer, groupIdArg, userIdArg, 'only the owner may change roles', async (trx, group, userId) => {
      await this.assignRole(trx, group, userId, role);
    });
  }

  /** Owner only: the member becomes the owner and the former owner an admin; everyone hears UPDATED. */
  async transferOwnership(viewer: Viewer, groupIdArg: string, userIdArg: string): Promise<Group> {
    return this.reassign(viewer, groupIdArg, userIdArg, 'only the owner may transfer ownership', async (trx, group, userId) => {
      await this.assignRole(trx, group, userId, GroupRole.OWNER);
      await this.assignRole(trx, group, viewer.userId, GroupRole.ADMIN);
      await trx('groups').where({ id: group.groupId }).update({ owner_id: userId });
    });
  }

  /** A member sets (or, with null or blank, clears) the name they go by in the group; everyone hears MEMBER_UPDATED. */
  async setDisplayName(viewer: Viewer, groupIdArg: string, displayNameArg: string | null | undefined): Promise<Group> {
    const displayName = optionalText('displayName', displayNameArg ?? null, MAX_DISPLAY_NAME) ?? null;
    const { groupId } = await this.change(viewer, 'groupId', groupIdArg, Object.values(GroupRole), '', async (trx, group) => {
      await trx('group_members').where({ group_id: group.groupId, user_id: viewer.userId }).update({ display_name: displayName });
    });
    return this.announce(GroupChange.MEMBER_UPDATED, groupId, { members: [viewer.userId] });
  }

  /**
   * Owner or admin: while on, plain members' sends are refused. Sends read the switch with the sender's standing
   * in the database, so every node honours it from the next send on; everyone hears UPDATED.
   */
  async setMuteAll(viewer: Viewer, groupIdArg: string, muted: boolean): Promise<Group> {
    const { groupId } = await this.change(viewer, 'groupId', groupIdArg, MODERATORS, 'only the owner and admins may mute the group', async (trx, group) => {
      await trx('groups').where({ id: group.groupId }).update({ muted_all: muted });
    });
    return this.announce(GroupChange.UPDATED, groupId);
  }

  /**
   * The viewer's private remark for a group they belong or belonged to (kept on their contact, so it stays with
   * the history); null or blank clears it. Nobody else hears of it.
   */
  async setRemark(viewer: Viewer, groupIdArg: string, remarkArg: string | null | undefined): Promise<Group> {
    const groupId = idArg('groupId', groupIdArg);
    const remark = optionalText('remark', remarkArg ?? null, MAX_REMARK) ?? null;
    const changed = await this.db.knex('contacts').where({ user_id: viewer.userId, group_id: groupId }).update({ remark, updated_at: Date.now() });
    if (changed === 0) {
      if (!(await this.find(groupId))) throw notFound('group');
      throw forbidden('groupId: you were never a member of this group');
    }
    return (await this.find(groupId))!;
  }

  /** Each viewer's remark for each group, keyed `pairKey(viewerId, groupId)`, in one query. */
  async remarks(pairs: ReadonlyArray<readonly [string, string]>): Promise<Map<string, string | null>> {
    const rows: Array<{ user_id: string | number; group_id: string | number; remark: string | null }> = await this.db
      .knex('contacts')
      .select('user_id', 'group_id', 'remark')
      .whereIn(['user_id', 'group_id'], distinctPairs(pairs));
    return new Map(rows.map((r) => [pairKey(String(r.user_id), String(r.group_id)), r.remark]));
  }

  /** The owner changes another member's role; the group hears UPDATED naming that member. */
  private async reassign(
    viewer: Viewer,
    groupIdArg: string,
    userIdArg: string,
    refusal: string,
    work: (trx: Knex.Transaction, group: GroupStanding, userId: string) => Promise<void>,
  ): Promise<Group> {
    const userId = idArg('userId', userIdArg);
    const { groupId } = await this.change(viewer, 'groupId', groupIdArg, [GroupRole.OWNER], refusal, async (trx, group) => {
      if (userId === viewer.userId) throw badInput('userId', 'is you, the owner');
      await work(trx, group, userId);
    });
    return this.announce(GroupChange.UPDATED, groupId, { members: [userId] });
  }

  private async assignRole(trx: Knex.Transaction, group: GroupStanding, userId: string, role: GroupRole): Promise<void> {
    const changed = await trx('group_members').where({ group_id: group.groupId, user_id: userId }).update({ role });
    if (changed !== 1) throw notFound('member');
  }

  /**
   * Runs `work` in a transaction after locking the group's row and checking that the viewer, a member with one of
   * `allowed`, may act on a group that is not dissolved. Changes to one group are thereby serialized, and the check
   * sees exactly what the work will.
   */
  private async change<T>(
    viewer: Viewer,
    field: string,
    groupIdArg: string,
    allowed: readonly GroupRole[],
    refusal: string,
    work: (trx: Knex.Transaction, group: GroupStanding, now: number) => Promise<T>,
  ): Promise<{ groupId: string; result: T }> {
    const groupId = idArg(field, groupIdArg);
    const now = Date.now();
    const result = await this.db.knex.transaction(async (trx) => {
      if (!(await this.lock(trx, groupId, now))) throw notFound('group');
      const group = (await this.standing(groupId, viewer.userId, trx))!;
      if (!group.role) throw forbidden(`${field}: you are not a member of this group`);
      if (group.dissolved) throw forbidden(`${field}: the group was dissolved`);
      if (!allowed.includes(group.role)) throw forbidden(`${field}: ${refusal}`);
      return work(trx, group, now);
    });
    return { groupId, result };
  }

  /**
   * Adds members: their rows, and a contact each whose visible range starts at the conversation's lastSeq (a former
   * member's contact is reopened that way). Any pending application of theirs to the group is answered by it.
   */
  private async admit(
    trx: Knex.Transaction,
    group: Pick<GroupStanding, 'groupId' | 'conversationId'>,
    members: Array<{ userId: string; role: GroupRole }>,
    now: number,
  ): Promise<void> {
    if (members.length === 0) return;
    const [{ n }] = await trx('group_members').where({ group_id: group.groupId }).count({ n: '*' });
    if (Number(n) + members.length > MAX_GROUP_MEMBERS) throw conflict(`groupId: a group holds at most ${MAX_GROUP_MEMBERS} members`);
    const userIds = members.map((m) => m.userId);
    const lastSeq = await this.lastSeq(trx, group.conversationId);
    await insertInChunks(trx, 'group_members', members.map((m) => ({ group_id: group.groupId, user_id: m.userId, role: m.role, joined_at: now })));
    const reopened = new Set(
      (await trx('contacts').select('user_id').where({ conversation_id: group.conversationId }).whereIn('user_id', userIds)).map(
        (r: { user_id: string | number }) => String(r.user_id),
      ),
    );
    const window = { read_seq: lastSeq, visible_from_seq: lastSeq, visible_to_seq: null, hidden_seq: null, updated_at: now };
    if (reopened.size) await trx('contacts').where({ conversation_id: group.conversationId }).whereIn('user_id', [...reopened]).update(window);
    const fresh = userIds.filter((id) => !reopened.has(id));
    await insertInChunks(
      trx,
      'contacts',
      fresh.map((userId) => ({
        ...window,
        user_id: userId,
        conversation_id: group.conversationId,
        type: 'GROUP',
        group_id: group.groupId,
        pinned: false,
        muted: false,
        created_at: now,
      })),
    );
    await trx('applications')
      .whereIn('pending_key', userIds.map((id) => groupPendingKey(id, group.groupId)))
      .update({ status: 'ACCEPTED', pending_key: null, updated_at: now });
  }

  /** Ends a membership: the row goes, the contact's range closes at lastSeq and the contact is hidden for good. */
  private async release(trx: Knex.Transaction, group: GroupStanding, userId: string, now: number): Promise<void> {
    const lastSeq = await this.lastSeq(trx, group.conversationId);
    await trx('group_members').where({ group_id: group.groupId, user_id: userId }).delete();
    await trx('contacts')
      .where({ conversation_id: group.conversationId, user_id: userId })
      .update({ visible_to_seq: lastSeq, hidden_seq: lastSeq, updated_at: now });
  }

  /**
   * The conversation's last seq, its row locked until commit (before any contact is touched): the lock every append
   * to it takes, so a membership change and a send are serialized and a range bound read here is exact. A send
   * either committed before (its seq is at most this) or checks the sender and reads the members after this commits.
   * SQLite needs no lock: the transaction already holds the database's write lock.
   */
  private async lastSeq(trx: Knex.Transaction, conversationId: string): Promise<number> {
    const query = trx('conversations').first('last_seq').where({ id: conversationId });
    const row = await (this.db.dialect === 'mysql' ? query.forUpdate() : query);
    return Number(row.last_seq);
  }

  /**
   * Sends a GroupEvent carrying the whole group, members included, to every member and to `alsoTo` (members who
   * just left): one event per user in `members` (the joined or departed), or one with no member. The members are
   * loaded and their presence looked up once here, so that no socket looks it up (a departed member's is shown
   * only to those whom each socket's acquaintance check finds related). Returns the group.
   */
  private async announce(
    change: GroupChange,
    groupId: string,
    about: { members?: string[]; alsoTo?: string[]; ban?: BanRecord | null } = {},
  ): Promise<Group> {
    const group = await this.loaded(groupId);
    if (about.ban !== undefined) group.ban = about.ban;
    const concerned = await this.users.byIds(about.members ?? []);
    if (change === GroupChange.MEMBER_LEFT) {
      // Who left is no fellow member of those who stay: known, but shown only where the viewer's check allows.
      const online = await this.presence.online([...concerned.keys()]);
      for (const user of concerned.values()) user.knownOnline = online.has(user.id);
    } else {
      await this.presence.fill([...concerned.values()]);
    }
    const recipients = [...group.members!.map((m) => m.user.id), ...(about.alsoTo ?? [])];
    const subjects = about.members?.length ? about.members.map((id) => concerned.get(id) ?? null) : [null];
    const inEvent = group.members!.length > INLINE_EVENT_MEMBERS ? { ...group, members: undefined } : group;
    for (const member of subjects) await this.notifier.send(recipients, { __typename: 'GroupEvent', change, group: inEvent, member });
    return group;
  }

  /** A group with its members loaded and everyone's presence filled, ready to travel in an event. */
  private async loaded(groupId: string): Promise<Group> {
    const [group] = await this.toGroups(await this.db.knex('groups').select('*').where({ id: groupId }));
    const [members] = await this.membersOf([groupId]);
    await this.presence.fill([group!.owner, ...(members!.length > INLINE_EVENT_MEMBERS ? [] : members!.map((m) => m.user))]);
    return { ...group!, members: members!, memberCount: members!.length };
  }

  /** Groups that a user is a member of, as a query to narrow down. */
  private joined(userId: string): Knex.QueryBuilder {
    return this.db.knex('groups as g').join('group_members as gm', 'gm.group_id', 'g.id').where('gm.user_id', userId).select('g.*').orderBy('g.id');
  }

  private async toGroups(rows: GroupRow[]): Promise<Group[]> {
    const owners = await this.users.byIds(rows.map((r) => String(r.owner_id)));
    return rows.map((row) => ({
      id: String(row.id),
      conversationId: String(row.conversation_id),
      name: row.name,
      avatarUrl: row.avatar_url,
      notice: row.notice,
      owner: owners.get(String(row.owner_id))!,
      createdAt: new Date(Number(row.created_at)),
      dissolvedAt: row.dissolved_at == null ? null : new Date(Number(row.dissolved_at)),
      mutedAll: !!row.muted_all,
    }));
  }
}

/** The distinct left and right members of some pairs, for a query that finds them by index. */
function sides(pairs: ReadonlyArray<readonly [string, string]>): [string[], string[]] {
  return [[...new Set(pairs.map((p) => p[0]))], [...new Set(pairs.map((p) => p[1]))]];
}

function pairSet(rows: Array<{ a: string | number; b: string | number }>): Set<string> {
  return new Set(rows.map((r) => pairKey(String(r.a), String(r.b))));
}

/** Inserts many rows in statements of 200, below every dialect's limit on bound values per statement. */
async function insertInChunks(trx: Knex.Transaction, table: string, rows: Array<Record<string, unknown>>): Promise<void> {
  for (let i = 0; i < rows.length; i += 200) await trx(table).insert(rows.slice(i, i + 200));
}
