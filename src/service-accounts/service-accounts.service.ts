import { randomBytes } from 'node:crypto';
import type { AdminService } from '../admin/admin.service';
import type { ServiceViewer } from '../auth/context';
import { hashPassword } from '../auth/passwords';
import { isUniqueViolation } from '../db/errors';
import type { ServiceAccountRecord, ServiceAccountsStore } from './service-accounts.store';
import { newServiceKey, parseServiceKey, sameHash } from './service-keys';

/** A service account's name: the username of its user, so the same rule. */
const NAME = /^[A-Za-z0-9_.-]{3,32}$/;

/** Why `npm run admin -- service ...` refused (exit code 1): a taken or unknown name, an account already revoked. */
export class ServiceAccountRefused extends Error {}

/**
 * Service accounts and their API keys: made, rotated and revoked from the host (`npm run admin`), each change in
 * the audit log with no actor; and the check of a presented key, which reads the database every time so that a
 * revocation holds on the very next request on every node.
 */
export class ServiceAccountsService {
  constructor(
    private readonly store: ServiceAccountsStore,
    private readonly admin: AdminService,
  ) {}

  /** Makes an account and its first key; the key is returned here and nowhere else, ever. */
  async create(name: string): Promise<{ account: ServiceAccountRecord; key: string }> {
    if (!NAME.test(name)) throw new ServiceAccountRefused(`name: must be 3-32 letters, digits, '_', '.' or '-'`);
    const key = newServiceKey();
    // A password of 256 random bits that is thrown away: a real hash that no login can ever match.
    const passwordHash = await hashPassword(randomBytes(32).toString('base64url'));
    let account: ServiceAccountRecord;
    try {
      account = await this.store.create({ name, passwordHash, now: Date.now() }, key);
    } catch (error) {
      if (isUniqueViolation(error)) throw new ServiceAccountRefused(`a user or service account named ${name} already exists`);
      throw error;
    }
    await this.audit('CREATE_SERVICE_ACCOUNT', account);
    return { account, key: key.key };
  }

  /** Revokes an account and all its keys, at once. */
  async revoke(name: string): Promise<ServiceAccountRecord> {
    const account = await this.live(name);
    await this.store.revoke(account.id, Date.now());
    await this.audit('REVOKE_SERVICE_ACCOUNT', account);
    return account;
  }

  /** Replaces every key of a live account with a new one, returned once; the old keys stop working at once. */
  async rotate(name: string): Promise<string> {
    const account = await this.live(name);
    const key = newServiceKey();
    await this.store.replaceKeys(account.id, key, Date.now());
    await this.audit('ROTATE_SERVICE_KEY', account);
    return key.key;
  }

  /** Every account, revoked ones included, oldest first. */
  list(): Promise<ServiceAccountRecord[]> {
    return this.store.list();
  }

  /** The account behind an API key, or undefined for a key that is malformed, unknown or revoked. */
  async authenticate(key: string): Promise<ServiceViewer | undefined> {
    const parts = parseServiceKey(key);
    const owner = parts && (await this.store.keyOwner(parts.prefix));
    if (!parts || !owner || !sameHash(owner.secretHash, parts.secretHash)) return undefined;
    return { accountId: owner.accountId, userId: owner.userId, name: owner.name };
  }

  private async live(name: string): Promise<ServiceAccountRecord> {
    const account = await this.store.byName(name);
    if (!account) throw new ServiceAccountRefused(`no service account named ${name}`);
    if (account.revokedAt !== null) throw new ServiceAccountRefused(`service account ${account.name} is revoked`);
    return account;
  }

  private async audit(action: string, account: ServiceAccountRecord): Promise<void> {
    await this.admin.record({ actorId: null, action, subjectType: 'SERVICE_ACCOUNT', subjectId: account.id, reason: null, details: { name: account.name } });
  }
}
