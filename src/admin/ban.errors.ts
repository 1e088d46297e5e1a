import { AppError } from '../common/errors';
import type { BanRecord } from './bans.store';

const ending = (ban: BanRecord): string => (ban.until === null ? 'for good' : `until ${new Date(ban.until).toISOString()}`);

/**
 * FORBIDDEN for a banned user: `extensions.reason` BANNED and `extensions.until` (ISO, null when permanent) for
 * clients, the admin's reason in the message for people.
 */
export const userBanned = (ban: BanRecord): AppError =>
  new AppError('FORBIDDEN', `this account is banned ${ending(ban)}: ${ban.reason}`, { reason: 'BANNED', until: isoOrNull(ban.until) });

/** FORBIDDEN for an act on a banned group (a send, a join), naming the argument: `extensions.reason` GROUP_BANNED. */
export const groupBanned = (field: string, ban: BanRecord): AppError =>
  new AppError('FORBIDDEN', `${field}: the group is banned ${ending(ban)}: ${ban.reason}`, { reason: 'GROUP_BANNED', until: isoOrNull(ban.until) });

const isoOrNull = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
