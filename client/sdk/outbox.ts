import { SendMessageDocument, type MessageFieldsFragment, type SendMessageInput } from '../generated/graphql';
import { backoffDelay, sleep, type BackoffOptions } from './backoff';
import { ImError } from './errors';
import type { HttpTransport } from './http';

/** A message to send; `clientMessageId` is generated when absent. */
export type SendInput = Omit<SendMessageInput, 'clientMessageId'> & { clientMessageId?: string };

/** What an {@link Outbox} needs from the client around it. */
export interface OutboxHooks {
  /** An authorized request (refreshing the token as needed). */
  request: HttpTransport;
  backoff: BackoffOptions;
  /** Aborts when the client closes: a send waiting to retry gives up then. */
  signal(): AbortSignal;
  /** The server stored the message (the answer goes to the app's `message` events too, in order). */
  sent(message: MessageFieldsFragment): void;
}

/** 128 random bits as hex: unique per sender, from the Web Crypto API both Node 20 and browsers have. */
export function newClientMessageId(): string {
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * Sends with retries. The server stores a clientMessageId once per sender and answers a resend with the stored
 * message, so every retry carries the same id: a request whose answer was lost is retried without creating a
 * second message. Retried until the server answers: on network errors, 5xx, RATE_LIMITED (after the wait the
 * server names, else backoff) and errors marked retryable (the server's database was away); a GraphQL refusal
 * (BAD_USER_INPUT, FORBIDDEN, …) rejects at once.
 */
export class Outbox {
  constructor(private readonly hooks: OutboxHooks) {}

  /** Resolves with the stored message once the server answered; rejects on a refusal or when the client closes. */
  async send(input: SendInput): Promise<MessageFieldsFragment> {
    const variables = { input: { ...input, clientMessageId: input.clientMessageId ?? newClientMessageId() } };
    for (let attempt = 0; ; attempt++) {
      const signal = this.hooks.signal();
      if (signal.aborted) throw new ImError('the client was closed before the message was sent', 'NETWORK', false);
      try {
        const message = (await this.hooks.request(SendMessageDocument, variables)).sendMessage;
        this.hooks.sent(message);
        return message;
      } catch (error) {
        if (!(error instanceof ImError) || !error.retryable) throw error;
        await sleep(error.retryAfterMs ?? backoffDelay(attempt, this.hooks.backoff), signal);
      }
    }
  }
}
