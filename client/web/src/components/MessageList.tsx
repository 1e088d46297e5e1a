import { useLayoutEffect, useRef } from 'react';
import { useSession } from '../im-context';
import type { useConversation } from '../hooks/useConversation';
import { MessageBubble, PendingBubble, SystemNotice } from './MessageBubble';

/** How close to the top (px) the history must be scrolled before the next older page loads. */
const LOAD_OLDER_THRESHOLD_PX = 40;

/**
 * The history, oldest at the top: scrolling up loads older pages (keeping the view where it was), new messages
 * scroll into view when the reader is at the bottom. `peerReadSeq` puts "Read" under the newest own message
 * the other side has read (0: not a private conversation).
 */
export function MessageList({ conversation, peerReadSeq }: { conversation: ReturnType<typeof useConversation>; peerReadSeq: number }) {
  const { me } = useSession();
  const { messages, pending, hasMore, loadError, loadOlder, retry, merge } = conversation;
  const box = useRef<HTMLDivElement>(null);
  /** Whether the view follows new messages: true until the reader scrolls away from the bottom. */
  const atBottom = useRef(true);
  /** Where the view was when an older page was asked for, to keep it there once the page is prepended. */
  const anchor = useRef<{ height: number; top: number } | null>(null);

  useLayoutEffect(() => {
    const el = box.current;
    if (!el) return;
    if (anchor.current) el.scrollTop = el.scrollHeight - anchor.current.height + anchor.current.top;
    else if (atBottom.current) el.scrollTop = el.scrollHeight;
    anchor.current = null;
  }, [messages, pending]);

  const onScroll = () => {
    const el = box.current;
    if (!el) return;
    atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < 60;
    if (hasMore && el.scrollTop < LOAD_OLDER_THRESHOLD_PX) {
      anchor.current = { height: el.scrollHeight, top: el.scrollTop };
      loadOlder();
    }
  };

  const lastReadOwnSeq = messages.reduce((seq, m) => (m.sender.id === me.id && m.seq <= peerReadSeq ? m.seq : seq), 0);
  return (
    <div className="messages" ref={box} onScroll={onScroll} data-testid="message-list">
      {!hasMore && <p className="history-start">Start of the conversation</p>}
      {loadError && <p className="error">{loadError}</p>}
      {messages.map((message) =>
        message.type === 'SYSTEM' ? (
          <SystemNotice key={message.id} message={message} />
        ) : (
          <MessageBubble key={message.id} message={message} own={message.sender.id === me.id} read={message.seq === lastReadOwnSeq} onRecalled={merge} />
        ),
      )}
      {pending.map((p) => (
        <PendingBubble key={p.clientMessageId} pending={p} onRetry={() => retry(p.clientMessageId)} />
      ))}
    </div>
  );
}
