import type { MessageFieldsFragment } from '../../client/generated/graphql';
import type { ImClient } from '../../client/sdk';

/**
 * Sends `n` text messages from `sender` to `toUserId`, a few at a time; `progress` runs (and is awaited)
 * after each send with the number sent so far, so that a test can cut the network mid-stream.
 */
export async function sendMany(
  sender: ImClient,
  toUserId: string,
  n: number,
  progress: (sent: number) => void | Promise<void> = () => undefined,
): Promise<MessageFieldsFragment[]> {
  const sent: MessageFieldsFragment[] = [];
  const inFlight = 4;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) {
      const i = next++;
      sent.push(await sender.send({ toUserId, content: `m${i}` }));
      await progress(sent.length);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  return sent;
}

/** `received` holds every message of `sent` exactly once, and in seq order within each conversation. */
export function expectEveryMessageOnceInOrder(received: MessageFieldsFragment[], sent: MessageFieldsFragment[]): void {
  const ids = received.map((m) => m.id);
  expect(new Set(ids).size).toBe(ids.length);
  expect([...ids].sort()).toEqual(sent.map((m) => m.id).sort());
  const last = new Map<string, number>();
  for (const message of received) {
    expect(message.seq).toBeGreaterThan(last.get(message.conversationId) ?? 0);
    last.set(message.conversationId, message.seq);
  }
}
