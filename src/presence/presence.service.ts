import type { Logger } from '../common/logger';
import type { DeliveryEngine } from '../delivery/delivery';
import type { Notifier } from '../delivery/notifier';
import type { FriendsService } from '../friends/friends.service';
import type { User } from '../users/user.types';
import type { UsersService } from '../users/users.service';

/**
 * Who is online, as the delivery engine's routing records say: a user is online while at least one terminal
 * holds a live subscription connection. Friends hear of the first terminal coming and the last one going.
 */
export class PresenceService {
  constructor(
    private readonly engine: DeliveryEngine,
    private readonly friends: FriendsService,
    private readonly users: UsersService,
    private readonly notifier: Notifier,
    private readonly log: Logger,
  ) {}

  /**
   * Fills `online` on users that go into an event, with one lookup for all of them, so that dispatching the
   * event to many sockets never asks presence again per socket.
   */
  async fill(users: User[]): Promise<void> {
    const pending = users.filter((u) => u.online === undefined);
    if (pending.length === 0) return;
    const online = await this.online(pending.map((u) => u.id));
    for (const user of pending) user.online = online.has(user.id);
  }

  /** Announcements under way, so that shutdown can wait for them before closing the database. */
  private readonly inFlight = new Set<Promise<void>>();

  /**
   * Which of `userIds` are online. While the routing records cannot be read (Redis away) everyone reads as
   * offline: presence is a hint, and a send or a query must not fail over it.
   */
  readonly online = async (userIds: readonly string[]): Promise<Set<string>> => {
    try {
      return await this.engine.online(userIds);
    } catch (err) {
      this.log.warn({ err }, 'presence unavailable; reporting users offline');
      return new Set();
    }
  };

  /** The hub's presence listener: tells the user's friends. */
  readonly changed = (userId: string, online: boolean): void => {
    const announcement = this.announce(userId, online)
      .catch((err: unknown) => this.log.error({ err, userId }, 'presence announcement failed'))
      .finally(() => this.inFlight.delete(announcement));
    this.inFlight.add(announcement);
  };

  /**
   * The janitor's listener: users whose push node died, once its records are gone. Those with no live
   * terminal left are announced offline; a failed lookup throws rather than announce anyone wrongly.
   */
  readonly departed = async (userIds: readonly string[]): Promise<void> => {
    const online = await this.engine.online(userIds);
    for (const userId of userIds) if (!online.has(userId)) this.changed(userId, false);
  };

  /** Resolves once every announcement started so far has finished. */
  async settle(): Promise<void> {
    await Promise.all([...this.inFlight]);
  }

  private async announce(userId: string, online: boolean): Promise<void> {
    const [friendIds, user] = await Promise.all([this.friends.friendIds(userId), this.users.find(userId)]);
    if (!user || friendIds.length === 0) return;
    await this.notifier.send(friendIds, { __typename: 'PresenceEvent', user: { ...user, online }, online });
  }
}
