import type { Logger } from '../common/logger';
import type { Metrics } from '../metrics/metrics';
import type { Moderation, ModerationContext, ModerationField, Verdict } from './moderation';

/** What the webhook adapter does when the service does not answer usefully in time. */
export type WebhookFailure = 'open' | 'closed';

/** Where and how the webhook adapter asks. */
export interface WebhookOptions {
  /** POSTed `{field, text, userId}` as JSON; answers `{action: 'ALLOW'|'MASK'|'REFUSE', text?}`. */
  url: string;
  /** How long one check waits for the answer, connection included. @default 300 */
  timeoutMs?: number;
  /** open: ALLOW the text as given; closed: REFUSE it. @default 'open' */
  failure?: WebhookFailure;
}

/**
 * The external moderation service: one POST per text, bounded by `timeoutMs`. A timeout, a network error, a
 * non-2xx status or an answer outside the contract (unknown action; a MASK without a text, with an empty one or
 * a longer one) is a failure, answered by the failure policy and logged.
 */
export class WebhookModeration implements Moderation {
  private readonly timeoutMs: number;
  private readonly failure: WebhookFailure;

  /** @param metrics where failures are counted (`im_moderation_webhook_failures_total`) @default none */
  constructor(
    private readonly options: WebhookOptions,
    private readonly log: Logger,
    private readonly metrics?: Metrics,
  ) {
    this.timeoutMs = options.timeoutMs ?? 300;
    this.failure = options.failure ?? 'open';
  }

  async check(field: ModerationField, text: string, context: ModerationContext): Promise<Verdict> {
    try {
      const response = await fetch(this.options.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ field, text, userId: context.userId }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      if (!response.ok) throw new Error(`the moderation webhook answered HTTP ${response.status}`);
      return verdictOf((await response.json()) as unknown, text);
    } catch (err) {
      this.log.warn({ err, field, failure: this.failure }, 'moderation webhook failed; applying its failure policy');
      this.metrics?.moderationWebhookFailures.labels(this.failure).inc();
      return { action: this.failure === 'open' ? 'ALLOW' : 'REFUSE', text };
    }
  }
}

/** The webhook's answer as a verdict; throws when it breaks the contract. */
function verdictOf(body: unknown, text: string): Verdict {
  const answer = (body ?? {}) as { action?: unknown; text?: unknown };
  if (answer.action === 'ALLOW' || answer.action === 'REFUSE') return { action: answer.action, text };
  if (answer.action === 'MASK' && typeof answer.text === 'string' && answer.text.trim() !== '' && answer.text.length <= text.length) {
    return { action: 'MASK', text: answer.text };
  }
  throw new Error(`the moderation webhook answered outside the contract: ${JSON.stringify(body).slice(0, 200)}`);
}
