import DataLoader from 'dataloader';
/** Which of some users are online; the presence service's lookup. */
export type OnlineLookup = (userIds: readonly string[]) => Promise<Set<string>>;

/** Per-operation batchers, so that a list of users costs one presence lookup, not one per user. */
export interface Loaders {
  online: DataLoader<string, boolean>;
}

/**
 * Fresh loaders for one operation. `cache` must be false for a subscription, whose context outlives many
 * events: each event then batches its own lookups instead of reusing stale answers.
 * @param cache @default true
 */
export function createLoaders(lookup: OnlineLookup, cache = true): Loaders {
  return {
    online: new DataLoader(
      async (ids: readonly string[]) => {
        const online = await lookup(ids);
        return ids.map((id) => online.has(id));
      },
      { cache },
    ),
  };
}
