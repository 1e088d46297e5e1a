import type { Knex } from '@mikro-orm/knex';
import { newPrivateContact } from '../contacts/contact-rows';
import type { Database } from '../db/database';
import type { KeyParts } from './service-keys';

/** A service account as the store returns it. */
export interface ServiceAccountRecord {
  id: string;
  userId: string;
  name: string;
  createdAt: number;
  revokedAt: number | null;
  /** Keys not revoked. */
  activeKeys: number;
}

/** Who a live key belongs to, with the hash to check the presented secret against. */
export interface KeyOwner {
  accountId: string;
  userId: string;
  name: string;
  secretHash: string;
}

/** What creating an account stores besides its key. */
export interface NewServiceAccount {
  name: string;
  /** A hash of a password nobody knows, so that the account's user can never log in. */
  passwordHash: string;
  now: number;
}

type AccountRow = { id: string | number; user_id: string | number; name: string; created_at: string | number; revoked_at: string | number | null; active_keys: string | number };

const toRecord = (r: AccountRow): ServiceAccountRecord => ({
  id: String(r.id),
  userId: String(r.user_id),
  name: r.name,
  createdAt: Number(r.created_at),
  revokedAt: r.revoked_at === null ? null : Number(r.revoked_at),
  activeKeys: Number(r.active_keys),
});

/** The service accounts module's SQL: accounts, their keys, and the private conversations they write into. */
export class ServiceAccountsStore {
  constructor(private readonly db: Database) {}

  /**
   * Stores the account's user, the account and its first key in one transaction. The user's username is the
   * name: a unique violation (CONFLICT for the caller) when a user or an account already has it.
   */
  async create(account: NewServiceAccount, key: KeyParts): Promise<ServiceAccountRecord> {
    const { name, passwordHash, now } = account;
    return this.db.knex.transaction(async (trx) => {
      const [userId] = await trx('users').insert({
        username: name,
        username_key: name.toLowerCase(),
        nickname: name,
        password_hash: passwordHash,
        role: 'USER',
        created_at: now,
        updated_at: now,
      });
      const [id] = await trx('service_accounts').insert({ user_id: userId, name: name.toLowerCase(), created_at: now });
      await this.insertKey(trx, String(id), key, now);
      return { id: String(id), userId: String(userId), name: name.toLowerCase(), createdAt: now, revokedAt: null, activeKeys: 1 };
    });
  }

  /** Every account, oldest first, with its count of live keys. */
  async list(): Promise<ServiceAccountRecord[]> {
    const rows: AccountRow[] = await this.accounts().orderBy('a.id');
    return rows.map(toRecord);
  }

  /** The account with this name (any case), revoked or not. */
  async byName(name: string): Promise<ServiceAccountRecord | undefined> {
    const row: AccountRow | undefined = await this.accounts().where('a.name', name.toLowerCase()).first();
    return row && toRecord(row);
  }

  /** Revokes the account and every key of it. */
  async revoke(accountId: string, now: number): Promise<void> {
    await this.db.knex.transaction(async (trx) => {
      await trx('service_accounts').where({ id: accountId }).whereNull('revoked_at').update({ revoked_at: now });
      await trx('service_keys').where({ account_id: accountId }).whereNull('revoked_at').update({ revoked_at: now });
    });
  }

  /** Revokes every key of the account and stores `key` as its only live one, in one transaction. */
  async replaceKeys(accountId: string, key: KeyParts, now: number): Promise<void> {
    await this.db.knex.transaction(async (trx) => {
      await trx('service_keys').where({ account_id: accountId }).whereNull('revoked_at').update({ revoked_at: now });
      await this.insertKey(trx, accountId, key, now);
    });
  }

  /** The live account behind a live key with this prefix; one indexed read, no cache, so a revocation holds at once. */
  async keyOwner(prefix: string): Promise<KeyOwner | undefined> {
    const row = await this.db
      .knex('service_keys as k')
      .join('service_accounts as a', 'a.id', 'k.account_id')
      .first('a.id', 'a.user_id', 'a.name', 'k.secret_hash')
      .where('k.key_prefix', prefix)
      .whereNull('k.revoked_at')
      .whereNull('a.revoked_at');
    return row && { accountId: String(row.id), userId: String(row.user_id), name: row.name, secretHash: row.secret_hash };
  }

  /**
   * The private conversation between a service account's user and a user, made on first use with a contact for
   * the user only: the account reads nothing, and without a friendship the user cannot write back.
   */
  async conversationWith(serviceUserId: string, userId: string): Promise<string> {
    const [lo, hi] = BigInt(serviceUserId) < BigInt(userId) ? [serviceUserId, userId] : [userId, serviceUserId];
    const existing = await this.db.knex('conversations').first('id').where({ user_lo: lo, user_hi: hi });
    if (existing) return String(existing.id);
    const now = Date.now();
    try {
      return await this.db.knex.transaction(async (trx) => {
        const [id] = await trx('conversations').insert({ type: 'PRIVATE', user_lo: lo, user_hi: hi, last_seq: 0, created_at: now });
        await trx('contacts').insert(newPrivateContact(userId, String(id), serviceUserId, now));
        return String(id);
      });
    } catch (error) {
      // Two first sends at once: the (user_lo, user_hi) index let one make it; the other uses that one.
      const made = await this.db.knex('conversations').first('id').where({ user_lo: lo, user_hi: hi });
      if (made) return String(made.id);
      throw error;
    }
  }

  private accounts(): Knex.QueryBuilder {
    return this.db
      .knex('service_accounts as a')
      .select('a.id', 'a.user_id', 'a.name', 'a.created_at', 'a.revoked_at')
      .select(this.db.knex.raw('(select count(*) from service_keys k where k.account_id = a.id and k.revoked_at is null) as active_keys'));
  }

  private async insertKey(trx: Knex.Transaction, accountId: string, key: KeyParts, now: number): Promise<void> {
    await trx('service_keys').insert({ account_id: accountId, key_prefix: key.prefix, secret_hash: key.secretHash, created_at: now });
  }
}
