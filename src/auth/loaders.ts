import DataLoader from 'dataloader';
import type { DeliveryEngine } from '../delivery/delivery';

/** Per-operation batchers, so that a list of users costs one presence lookup, not one per user. */
export interface Loaders {
  online: DataLoader<string, boolean>;
}

/**
 * Fresh loaders for one operation. `cache` must be false for a subscription, whose context outlives many
 * events: each event then batches its own lookups instead of reusing stale answers.
 * @param cache @default true
 */
export function createLoaders(engine: DeliveryEngine, cache = true): Loaders {
  return {
    online: new DataLoader(
      async (ids: readonly string[]) => {
        const online = await engine.online(ids);
        return ids.map((id) => online.has(id));
      },
      { cache },
    ),
  };
}
