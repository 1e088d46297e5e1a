import { useRef, useState } from 'react';
import { useSession } from '../im-context';
import { useCall } from '../hooks/useCall';
import { useContacts } from '../hooks/useContacts';
import { CallPanel } from './CallPanel';
import { ChatView } from './ChatView';
import { ContactList } from './ContactList';
import { FriendsPanel } from './FriendsPanel';
import { GroupsPanel } from './GroupsPanel';
import { ReconnectingBanner } from './ReconnectingBanner';

type Tab = 'chats' | 'friends' | 'groups';

const TABS: readonly { id: Tab; label: string }[] = [
  { id: 'chats', label: 'Chats' },
  { id: 'friends', label: 'Friends' },
  { id: 'groups', label: 'Groups' },
];

/** The signed-in screen: lists on the left (chats, friends, groups), the open conversation on the right. */
export function Shell({ onSignOut }: { onSignOut: () => void }) {
  const { me } = useSession();
  const [tab, setTab] = useState<Tab>('chats');
  const [openId, setOpenId] = useState<string | null>(null);
  const { contacts, error, refetch } = useContacts();
  const call = useCall();
  // The outcome of the last call may still show; a new one can start meanwhile.
  const inCall = call.view !== null && call.view.phase !== 'ended';
  const open = contacts.find((c) => c.conversationId === openId);
  // A conversation that was on screen and then left the list: the user left the group or was removed from it.
  const shown = useRef<string | null>(null);
  if (open) shown.current = open.conversationId;
  const gone = openId !== null && !open && shown.current === openId;

  const openChat = (conversationId: string) => {
    setOpenId(conversationId);
    setTab('chats');
    // A conversation that was just created (a group, a friendship) may not be in the list yet.
    if (!contacts.some((c) => c.conversationId === conversationId)) refetch();
  };

  return (
    <div className="shell">
      <header className="topbar">
        <span className="me" data-testid="me">
          {me.nickname} <small>@{me.username}</small>
        </span>
        <ReconnectingBanner />
        <button type="button" onClick={onSignOut} data-testid="logout">
          Log out
        </button>
      </header>
      <aside className="sidebar">
        <nav className="tabs">
          {TABS.map(({ id, label }) => (
            <button key={id} type="button" className={tab === id ? 'active' : ''} onClick={() => setTab(id)} data-testid={`tab-${id}`}>
              {label}
            </button>
          ))}
        </nav>
        {error && <p className="error">{error}</p>}
        {tab === 'chats' && <ContactList contacts={contacts} openId={openId} onOpen={openChat} />}
        {tab === 'friends' && <FriendsPanel onOpenChat={openChat} />}
        {tab === 'groups' && <GroupsPanel onOpenChat={openChat} />}
      </aside>
      <main className="main">
        <CallPanel controls={call} />
        {open ? (
          <ChatView key={open.conversationId} contact={open} onCall={inCall ? undefined : call.start} />
        ) : (
          <p className="placeholder" data-testid={gone ? 'conversation-gone' : undefined}>
            {gone ? 'This conversation is no longer yours: you left it or were removed.' : openId ? 'Opening…' : 'Pick a conversation, or find friends under Friends.'}
          </p>
        )}
      </main>
    </div>
  );
}
