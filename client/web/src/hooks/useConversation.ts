import { useCallback, useEffect, useRef, useState } from 'react';
import { useClient } from 'urql';
import { MessagesDocument, type MessageFieldsFragment, type MessageType } from '../../../generated/graphql';
import { errorText } from '../errors';
import { useImEvent, useSession } from '../im-context';
import { messageTypeOf, uploadFile } from '../uploads';

/** A file picked to be sent, while it uploads. */
export interface PendingAttachment {
  file: File;
  /** An object URL of a picked image, shown until the server's thumbnail takes its place. */
  previewUrl?: string;
  /** The fraction of the bytes sent so far, 0 to 1. */
  progress: number;
}

/** A message typed or attached here that the server has not confirmed yet. */
export interface PendingMessage {
  clientMessageId: string;
  type: MessageType;
  /** The text; for an attachment, the content naming the upload once it is uploaded (empty before). */
  content: string;
  attachment?: PendingAttachment;
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
  const previews = useRef(new Set<string>());

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

  // An image's preview lives as long as its pending bubble: released once the message is confirmed, or on leaving.
  useEffect(() => {
    const live = new Set(pending.flatMap((p) => p.attachment?.previewUrl ?? []));
    for (const url of previews.current) if (!live.has(url)) URL.revokeObjectURL(url);
    previews.current = live;
  }, [pending]);
  useEffect(() => () => previews.current.forEach((url) => URL.revokeObjectURL(url)), []);

  const update = useCallback((clientMessageId: string, change: (p: PendingMessage) => Partial<PendingMessage>) => {
    setPending((current) => current.map((p) => (p.clientMessageId === clientMessageId ? { ...p, ...change(p) } : p)));
  }, []);

  /** Uploads the attachment unless a previous attempt did, then sends; a refusal stays on the bubble. */
  const deliver = useCallback(
    async ({ clientMessageId, type, content, attachment }: PendingMessage) => {
      try {
        if (attachment && !content) {
          content = await uploadFile(urql, attachment.file, type, (progress) =>
            update(clientMessageId, (p) => ({ attachment: p.attachment && { ...p.attachment, progress } })),
          );
          const uploaded = content;
          update(clientMessageId, () => ({ content: uploaded }));
        }
        merge([await im.send({ ...recipient, type, content, clientMessageId })]);
      } catch (error) {
        update(clientMessageId, () => ({ error: errorText(error) }));
      }
    },
    [im, urql, merge, recipient, update],
  );

  const enqueue = useCallback(
    (message: PendingMessage) => {
      setPending((current) => [...current, message]);
      void deliver(message);
    },
    [deliver],
  );

  const send = useCallback((content: string) => enqueue({ clientMessageId: newClientMessageId(), type: 'TEXT', content }), [enqueue]);

  /** Sends each file as a message of its own: images as IMAGE (shown at once from the local file), the rest as FILE. */
  const sendFiles = useCallback(
    (files: File[]) => {
      for (const file of files) {
        const type = messageTypeOf(file);
        const previewUrl = type === 'IMAGE' ? URL.createObjectURL(file) : undefined;
        enqueue({ clientMessageId: newClientMessageId(), type, content: '', attachment: { file, previewUrl, progress: 0 } });
      }
    },
    [enqueue],
  );

  const retry = useCallback(
    (clientMessageId: string) => {
      const message = pending.find((p) => p.clientMessageId === clientMessageId);
      if (!message) return;
      update(clientMessageId, () => ({ error: undefined }));
      void deliver(message);
    },
    [pending, deliver, update],
  );

  return { messages, pending, hasMore, loadError, loadOlder, send, sendFiles, retry, merge };
}
