import { badInput, type AppError } from '../common/errors';
import type { Metrics } from '../metrics/metrics';

/** The user-written texts the server moderates, named as the input field a refusal names. */
export type ModerationField = 'content' | 'nickname' | 'signature' | 'name' | 'notice';

/** What a moderator decided: keep the text, store the returned text instead, or refuse the request. */
export type ModerationAction = 'ALLOW' | 'MASK' | 'REFUSE';

/** Who wrote the text; null while registering (no account yet). */
export interface ModerationContext {
  userId: string | null;
}

/** The answer of {@link Moderation.check}. */
export interface Verdict {
  action: ModerationAction;
  /** What to store: the text as given for ALLOW and REFUSE, the masked text for MASK. */
  text: string;
}

/**
 * The moderation port: every user-written text passes here before it is stored.
 *
 * Contract, for every implementation:
 * - `check` resolves with ALLOW and the text unchanged, MASK with the text to store in its place (never empty,
 *   never longer than the original, so that the field's length limits still hold), or REFUSE.
 * - Time budget: an in-memory adapter answers without I/O (it sits on the send path of every message); an adapter
 *   that does I/O bounds its own wait (the webhook: MODERATION_WEBHOOK_TIMEOUT_MS) and never holds a request longer.
 * - Failure: `check` never rejects. An adapter that cannot decide in time, or gets an answer it cannot use,
 *   applies its failure policy: open answers ALLOW (the text as given), closed answers REFUSE.
 * - Chaining ({@link ChainedModeration}): adapters run in order, each on the text the previous one returned; the
 *   first REFUSE ends the chain; otherwise the verdict is MASK when any adapter masked, else ALLOW.
 */
export interface Moderation {
  check(field: ModerationField, text: string, context: ModerationContext): Promise<Verdict>;
}

/** Runs adapters in order (the word lists, then the webhook); see the contract of {@link Moderation}. */
export class ChainedModeration implements Moderation {
  constructor(private readonly steps: readonly Moderation[]) {}

  async check(field: ModerationField, text: string, context: ModerationContext): Promise<Verdict> {
    let masked = false;
    let current = text;
    for (const step of this.steps) {
      const verdict = await step.check(field, current, context);
      if (verdict.action === 'REFUSE') return { action: 'REFUSE', text };
      if (verdict.action === 'MASK') {
        masked = true;
        current = verdict.text;
      }
    }
    return { action: masked ? 'MASK' : 'ALLOW', text: current };
  }
}

/** `moderation`, each MASK and REFUSE counted in `im_moderation_verdicts_total`; its answers are unchanged. */
export function countVerdicts(moderation: Moderation, metrics: Metrics): Moderation {
  return {
    async check(field, text, context) {
      const verdict = await moderation.check(field, text, context);
      if (verdict.action !== 'ALLOW') metrics.moderated.labels(field, verdict.action).inc();
      return verdict;
    },
  };
}

/** BAD_USER_INPUT naming the field, with `extensions.reason` MODERATION so that clients tell it from a length error. */
export const refusedByModeration = (field: ModerationField): AppError =>
  badInput(field, 'contains words that are not allowed here', { reason: 'MODERATION' });

/**
 * The text to store for `field`: as given, or masked; throws {@link refusedByModeration} when refused. A null or
 * undefined text (an optional field left alone or cleared) passes through unchecked.
 */
export async function moderated<T extends string | null | undefined>(
  moderation: Moderation,
  field: ModerationField,
  text: T,
  context: ModerationContext,
): Promise<T> {
  if (text === null || text === undefined) return text;
  const verdict = await moderation.check(field, text, context);
  if (verdict.action === 'REFUSE') throw refusedByModeration(field);
  return verdict.text as T;
}
