import DataLoader from 'dataloader';
/** Which of some users are online; the presence service's lookup. */
export type OnlineLookup = (userIds: readonly string[]) => Promise<Set<string>>;

/** Which of some (user, other) pairs stand in a relation; answers hold the pairs that do, as `pairKey`s. */
export type PairLookup = (pairs: ReadonlyArray<readonly [string, string]>) => Promise<Set<string>>;

/** The key of a pair in a {@link PairLookup}'s answer. */
export const pairKey = (a: string, b: string): string => `${a}:${b}`;

/**
 * Each pair once, for a `(x, y) in (...)` query of exactly the pairs asked: a query on the sides alone would
 * answer every combination of them, as many rows as viewers times users.
 */
export function distinctPairs(pairs: ReadonlyArray<readonly [string, string]>): Array<[string, string]> {
  return [...new Map(pairs.map(([a, b]) => [pairKey(a, b), [a, b] as [string, string]])).values()];
}

/** The lookups behind every operation's {@link Loaders}, built once per process. */
export interface Lookups {
  /** Which users are online, whoever asks. */
  online: OnlineLookup;
  /** Of (user, group) pairs, those where the user is a member of the group and it is not dissolved. */
  memberships: PairLookup;
  /** Of (viewer, user) pairs, those where the two are friends or fellow members of a group not dissolved. */
  acquaintances: PairLookup;
}

/** Per-operation batchers, so that a list of users or groups costs one lookup, not one per item. */
export interface Loaders {
  /** By user id: whether the user is online, whether or not the viewer may know it. */
  online: DataLoader<string, boolean>;
  /** By group id: whether the viewer is a current member of it (and it is not dissolved); false without viewer. */
  member: DataLoader<string, boolean>;
  /** By user id: whether the viewer may see the user's presence (themself, a friend, a fellow member). */
  acquainted: DataLoader<string, boolean>;
}

/**
 * Batches pair checks across operations: the sockets that receive one event resolve it in the same turn, so a
 * node asks once per event, not once per socket. Never caches, since answers change with every membership.
 */
function pairBatcher(lookup: PairLookup): DataLoader<readonly [string, string], boolean, string> {
  return new DataLoader(
    async (pairs) => {
      const yes = await lookup(pairs);
      return pairs.map(([a, b]) => yes.has(pairKey(a, b)));
    },
    { cache: false, maxBatchSize: 1000, batchScheduleFn: (run) => setImmediate(run) },
  );
}

/** Shares `lookups` between all operations of this process; pass the result to {@link createLoaders}. */
export function shareLookups(lookups: Lookups): Lookups {
  const memberships = pairBatcher(lookups.memberships);
  const acquaintances = pairBatcher(lookups.acquaintances);
  const ask = (loader: typeof memberships) => async (pairs: ReadonlyArray<readonly [string, string]>) => {
    const answers = await loader.loadMany(pairs);
    const failed = answers.find((a) => a instanceof Error);
    if (failed) throw failed;
    return new Set(pairs.filter((_, i) => answers[i] === true).map(([a, b]) => pairKey(a, b)));
  };
  return { online: lookups.online, memberships: ask(memberships), acquaintances: ask(acquaintances) };
}

/**
 * Fresh loaders for one operation of `viewerId`. `cache` must be false for a subscription, whose context outlives
 * many events: each event then batches its own lookups instead of reusing stale answers.
 * @param cache @default true
 */
export function createLoaders(lookups: Lookups, viewerId: string | undefined, cache = true): Loaders {
  const related = (lookup: PairLookup, self: boolean) => async (ids: readonly string[]) => {
    if (viewerId === undefined) return ids.map(() => false);
    const asked = ids.filter((id) => !(self && id === viewerId));
    const yes = asked.length ? await lookup(asked.map((id) => [viewerId, id] as const)) : new Set<string>();
    return ids.map((id) => (self && id === viewerId) || yes.has(pairKey(viewerId, id)));
  };
  return {
    online: new DataLoader(
      async (ids: readonly string[]) => {
        const online = await lookups.online(ids);
        return ids.map((id) => online.has(id));
      },
      { cache },
    ),
    member: new DataLoader(related(lookups.memberships, false), { cache }),
    acquainted: new DataLoader(related(lookups.acquaintances, true), { cache }),
  };
}
