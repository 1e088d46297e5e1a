import { useEffect, useMemo, useRef, useState } from 'react';
import type { CallMedia, ContactFieldsFragment } from '../../../generated/graphql';
import { useMarkConversationReadMutation, useSetContactMutedMutation, useSetContactPinnedMutation } from '../../../generated/hooks';
import { useConversation, type Recipient } from '../hooks/useConversation';
import { useGroup, type GroupView } from '../hooks/useGroup';
import { usePeerReadSeq } from '../hooks/usePeerReadSeq';
import { useTypingNames } from '../hooks/useTypingNames';
import { Composer } from './Composer';
import { contactTitle } from './ContactList';
import { GroupDetails } from './GroupDetails';
import { MessageList } from './MessageList';
import { PresenceDot } from './PresenceDot';

/** Why the viewer cannot send here right now (a suspended group, everyone muted and they do not manage it), if so. */
function sendBlocked({ group, manages }: GroupView): string | undefined {
  if (group?.banned) return `This group was suspended: ${group.banReason ?? 'no reason given'}`;
  if (group?.mutedAll && !manages) return 'Everyone is muted in this group: only the owner and admins can send.';
  return undefined;
}

/**
 * One open conversation: header with its toggles, the history, who is typing, and the composer. `onCall` rings
 * the peer of a private conversation (private chats are between friends); without it no call buttons show.
 */
export function ChatView({ contact, onCall }: { contact: ContactFieldsFragment; onCall?: (calleeId: string, media: CallMedia) => void }) {
  const { conversationId } = contact;
  const recipient = useMemo<Recipient>(
    () => (contact.group ? { toGroupId: contact.group.id } : { toUserId: contact.peer?.id ?? '' }),
    [contact.group, contact.peer],
  );
  const conversation = useConversation(conversationId, recipient);
  const typing = useTypingNames(conversationId);
  const peerReadSeq = usePeerReadSeq(conversationId, contact.peerReadSeq);
  const groupView = useGroup(contact.group?.id);
  const blocked = sendBlocked(groupView);
  const refusal = conversation.pending.findLast((p) => p.error)?.error;
  const [showMembers, setShowMembers] = useState(false);
  const [, setPinned] = useSetContactPinnedMutation();
  const [, setMuted] = useSetContactMutedMutation();
  const [, markRead] = useMarkConversationReadMutation();

  // Everything shown is read: mark up to the newest seq once per new message (the server ignores lower seqs).
  const newestSeq = conversation.messages.at(-1)?.seq ?? 0;
  const markedSeq = useRef(contact.readSeq);
  useEffect(() => {
    if (newestSeq <= markedSeq.current) return;
    markedSeq.current = newestSeq;
    void markRead({ conversationId, seq: newestSeq });
  }, [newestSeq, conversationId, markRead]);

  return (
    <section className="chat" data-testid="chat-view" data-conversation-id={conversationId}>
      <header className="chat-header">
        {contact.peer && <PresenceDot online={contact.peer.online} />}
        <h2 data-testid="chat-title">{contactTitle(contact)}</h2>
        {contact.peer && onCall && (
          <CallButtons onCall={(media) => onCall(contact.peer?.id ?? '', media)} />
        )}
        {contact.group && (
          <button type="button" onClick={() => setShowMembers((v) => !v)} data-testid="toggle-members">
            Members ({contact.group.memberCount})
          </button>
        )}
        <button type="button" onClick={() => setPinned({ conversationId, pinned: !contact.pinned })} data-testid="toggle-pin">
          {contact.pinned ? 'Unpin' : 'Pin'}
        </button>
        <button type="button" onClick={() => setMuted({ conversationId, muted: !contact.muted })} data-testid="toggle-mute">
          {contact.muted ? 'Unmute' : 'Mute'}
        </button>
      </header>
      {groupView.group?.banned && (
        <p className="banner suspended" data-testid="group-banned">
          {blocked}
        </p>
      )}
      <div className="chat-body">
        <MessageList conversation={conversation} peerReadSeq={contact.type === 'PRIVATE' ? peerReadSeq : 0} />
        {showMembers && contact.group && <GroupDetails groupId={contact.group.id} view={groupView} />}
      </div>
      <p className="typing" data-testid="typing-indicator">
        {typing.length > 0 ? `${typing.join(', ')} ${typing.length === 1 ? 'is' : 'are'} typing…` : ''}
      </p>
      {refusal && !blocked && (
        <p className="error composer-refusal" data-testid="send-refusal">
          {refusal}
        </p>
      )}
      <Composer conversationId={conversationId} onSend={conversation.send} onAttach={conversation.sendFiles} blocked={blocked} />
    </section>
  );
}

/** Audio and video call buttons of a private conversation's header. */
function CallButtons({ onCall }: { onCall: (media: CallMedia) => void }) {
  return (
    <>
      <button type="button" onClick={() => onCall('AUDIO')} data-testid="call-audio" title="Audio call">
        Call
      </button>
      <button type="button" onClick={() => onCall('VIDEO')} data-testid="call-video" title="Video call">
        Video
      </button>
    </>
  );
}
