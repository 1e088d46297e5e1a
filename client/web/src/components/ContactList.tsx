import type { ContactFieldsFragment } from '../../../generated/graphql';
import { messagePreview } from '../media-content';
import { PresenceDot } from './PresenceDot';

/** The name a conversation goes by: the friend's nickname or the group's name, after the viewer's remark for the group. */
export function contactTitle(contact: ContactFieldsFragment): string {
  const { group } = contact;
  if (group?.remark) return `${group.remark} (${group.name})`;
  return contact.peer?.nickname ?? group?.name ?? 'Conversation';
}

/** A stable name for tests and links: the friend's username or the group's name. */
export function contactKey(contact: ContactFieldsFragment): string {
  return contact.peer?.username ?? contact.group?.name ?? contact.conversationId;
}

/** Conversations as the server orders them (pinned first), with unread badges, @-mention, pinned and muted marks. */
export function ContactList({
  contacts,
  openId,
  onOpen,
}: {
  contacts: ContactFieldsFragment[];
  openId: string | null;
  onOpen: (conversationId: string) => void;
}) {
  if (contacts.length === 0) return <p className="placeholder">No conversations yet.</p>;
  return (
    <ul className="list" data-testid="contact-list">
      {contacts.map((contact) => (
        <li key={contact.conversationId}>
          <button
            type="button"
            className={`contact ${contact.conversationId === openId ? 'active' : ''} ${contact.muted ? 'muted' : ''}`}
            onClick={() => onOpen(contact.conversationId)}
            data-testid={`contact-${contactKey(contact)}`}
          >
            {contact.peer && <PresenceDot online={contact.peer.online} />}
            <span className="title">{contactTitle(contact)}</span>
            {contact.pinned && <span className="mark" title="Pinned" data-testid="pinned-mark">📌</span>}
            {contact.muted && <span className="mark" title="Muted" data-testid="muted-mark">🔕</span>}
            {contact.mentioned && <span className="mention" title="You were mentioned" data-testid="mention-mark">@</span>}
            {contact.unreadCount > 0 && (
              <span className={`badge ${contact.muted ? 'quiet' : ''}`} data-testid="unread-badge">
                {contact.unreadCount}
              </span>
            )}
            <span className="preview">{contact.lastMessage ? messagePreview(contact.lastMessage) : ''}</span>
          </button>
        </li>
      ))}
    </ul>
  );
}
