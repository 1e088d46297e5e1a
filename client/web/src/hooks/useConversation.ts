import { useCallback, useEffect, useRef, useState } from 'react';
import { useClient } from 'urql';
import { MessagesDocument, type MessageFieldsFragment } from '../../../generated/graphql';
import { errorText } from '../errors';
import { useImEvent, useSession } from '../im-context';

/** A message typed here that the server has not confirmed yet. */
export interface PendingMessage {
  clientMessageId: string;
  content: string;
  /** Why the last attempt was refused; the message stays, with a retry button. */
  error?: string;
}

/** Where a conversation's messages go: a friend or a group. */
export type Recipient = { toUserId: string } | { toGroupId: string };

/** Messages per history page. */
export const PAGE_SIZE = 30;

/** `current` with `incoming` added, a newer copy (e.g. recalled) replacing an older one, in seq order. */
function mergeMessages(current: MessageFieldsFragment[], incoming: MessageFieldsFragment[]): MessageFieldsFragment[] {
  const byId = new Map(current.map((m) => [m.id, m]));
  for (const message of incoming) byId.set(message.id, message);
  return [...byId.values()].sort((a, b) => a.seq - b.seq);
}

/** A clientMessageId; crypto.randomUUID needs a secure context, which a LAN address over http is not. */
function newClientMessageId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * One conversation's messages: the newest page, older pages on demand, live messages and recalls from the SDK,
 * and optimistic sends that the SDK retries with the same clientMessageId (so a retry never duplicates).
 * `recipient` should be memoized: a new object re-creates the send callbacks.
 */
export function useConversation(conversationId: string, recipient: Recipient) {
  const { im, me } = useSession();
  const urql = useClient();
  const [messages, setMessages] = useState<MessageFieldsFragment[]>([]);
  const [pending, setPending] = useState<PendingMessage[]>([]);
  const [hasMore, setHasMore] = useState(true);
  const [loadError, setLoadError] = useState<string | null>(null);
  const loading = useRef(false);

  const merge = useCallback(
    (incoming: MessageFieldsFragment[]) => {
      setMessages((current) => mergeMessages(current, incoming));
      const confirmed = new Set(incoming.filter((m) => m.sender.id === me.id).map((m) => m.clientMessageId));
      if (confirmed.size) setPending((current) => current.filter((p) => !confirmed.has(p.clientMessageId)));
    },
    [me.id],
  );

  const loadPage = useCallback(
    async (beforeSeq?: number) => {
      if (loading.current) return;
      loading.current = true;
      try {
        const result = await urql
          .query(MessagesDocument, { conversationId, beforeSeq, limit: PAGE_SIZE }, { requestPolicy: 'network-only' })
          .toPromise();
        if (result.error) throw result.error;
        const page = result.data?.messages ?? [];
        merge(page);
        setHasMore(page.length === PAGE_SIZE);
        setLoadError(null);
      } catch (error) {
        setLoadError(errorText(error));
      } finally {
        loading.current = false;
      }
    },
    [urql, conversationId, merge],
  );

  useEffect(() => {
    void loadPage();
  }, [loadPage]);

  const oldestSeq = messages[0]?.seq;
  const loadOlder = useCallback(() => {
    if (hasMore && oldestSeq !== undefined && oldestSeq > 1) void loadPage(oldestSeq);
  }, [hasMore, oldestSeq, loadPage]);

  const mergeIfHere = (message: MessageFieldsFragment) => {
    if (message.conversationId === conversationId) merge([message]);
  };
  useImEvent('message', mergeIfHere);
  useImEvent('recalled', mergeIfHere);

  const deliver = useCallback(
    (message: PendingMessage) => {
      im.send({ ...recipient, type: 'TEXT', content: message.content, clientMessageId: message.clientMessageId }).then(
        (sent) => merge([sent]),
        (error: unknown) =>
          setPending((current) =>
            current.map((p) => (p.clientMessageId === message.clientMessageId ? { ...p, error: errorText(error) } : p)),
          ),
      );
    },
    [im, merge, recipient],
  );

  const send = useCallback(
    (content: string) => {
      const message = { clientMessageId: newClientMessageId(), content };
      setPending((current) => [...current, message]);
      deliver(message);
    },
    [deliver],
  );

  const retry = useCallback(
    (clientMessageId: string) => {
      const message = pending.find((p) => p.clientMessageId === clientMessageId);
      if (!message) return;
      setPending((current) => current.map((p) => (p.clientMessageId === clientMessageId ? { clientMessageId, content: p.content } : p)));
      deliver(message);
    },
    [pending, deliver],
  );

  return { messages, pending, hasMore, loadError, loadOlder, send, retry, merge };
}
