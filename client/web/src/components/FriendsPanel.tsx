import { useState, type FormEvent } from 'react';
import { useFriendsQuery, useSearchUsersQuery, useSendFriendApplicationMutation } from '../../../generated/hooks';
import { useImEvent, useSession } from '../im-context';
import { ApplicationsList } from './ApplicationsList';
import { PresenceDot } from './PresenceDot';

/** Find people by username and ask them to be friends; answer applications; open a chat with a friend. */
export function FriendsPanel({ onOpenChat }: { onOpenChat: (conversationId: string) => void }) {
  const { me } = useSession();
  const [input, setInput] = useState('');
  const [query, setQuery] = useState('');
  const [search] = useSearchUsersQuery({ variables: { query, first: 20 }, pause: query === '', requestPolicy: 'network-only' });
  const [friends, refetchFriends] = useFriendsQuery({ variables: { first: 100 } });
  const [application, apply] = useSendFriendApplicationMutation();
  const [asked, setAsked] = useState<Set<string>>(new Set());
  const refresh = () => refetchFriends({ requestPolicy: 'network-only' });
  useImEvent('friendAdded', refresh);
  useImEvent('friendRemoved', refresh);
  useImEvent('presence', refresh);

  const friendIds = new Set(friends.data?.friends.map((f) => f.user.id));
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setQuery(input.trim());
  };
  const ask = async (userId: string) => {
    const result = await apply({ userId });
    if (!result.error) setAsked((current) => new Set(current).add(userId));
  };

  return (
    <div className="panel">
      <form className="row" onSubmit={submit}>
        <input value={input} onChange={(e) => setInput(e.target.value)} placeholder="Search by username" data-testid="friend-search-input" />
        <button type="submit" data-testid="friend-search-submit">
          Search
        </button>
      </form>
      {search.error && <p className="error">{search.error.message}</p>}
      {application.error && <p className="error">{application.error.message}</p>}
      {query && search.data && (
        <ul className="list" data-testid="search-results">
          {search.data.searchUsers.length === 0 && <li className="placeholder">Nobody found.</li>}
          {search.data.searchUsers
            .filter((user) => user.id !== me.id)
            .map((user) => (
              <li key={user.id} className="row" data-testid={`search-result-${user.username}`}>
                <span className="title">
                  {user.nickname} <small>@{user.username}</small>
                </span>
                {friendIds.has(user.id) ? (
                  <small>friend</small>
                ) : (
                  <button type="button" disabled={asked.has(user.id)} onClick={() => ask(user.id)} data-testid="add-friend">
                    {asked.has(user.id) ? 'Asked' : 'Add friend'}
                  </button>
                )}
              </li>
            ))}
        </ul>
      )}
      <ApplicationsList />
      <h3>Friends</h3>
      <ul className="list" data-testid="friend-list">
        {friends.data?.friends.length === 0 && <li className="placeholder">No friends yet.</li>}
        {friends.data?.friends.map((friend) => (
          <li key={friend.user.id} className="row" data-testid={`friend-${friend.user.username}`}>
            <PresenceDot online={friend.user.online} />
            <span className="title">{friend.remark ?? friend.user.nickname}</span>
            <button type="button" onClick={() => onOpenChat(friend.conversationId)} data-testid="open-chat">
              Chat
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}
