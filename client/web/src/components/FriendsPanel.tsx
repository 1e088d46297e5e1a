import { useState, type FormEvent } from 'react';
import { useFriendsQuery, useSearchUsersQuery, useSendFriendApplicationMutation, useSetFriendRemarkMutation } from '../../../generated/hooks';
import { errorText } from '../errors';
import { useImEvent, useSession } from '../im-context';
import { ApplicationsList } from './ApplicationsList';
import { InlineEdit } from './InlineEdit';
import { PresenceDot } from './PresenceDot';

/**
 * Find people by username and ask them to be friends; answer applications; open a chat with a friend; keep a
 * private remark for a friend, shown instead of their nickname.
 */
export function FriendsPanel({ onOpenChat }: { onOpenChat: (conversationId: string) => void }) {
  const { me } = useSession();
  const [input, setInput] = useState('');
  const [query, setQuery] = useState('');
  const [search] = useSearchUsersQuery({ variables: { query, first: 20 }, pause: query === '', requestPolicy: 'network-only' });
  const [friends, refetchFriends] = useFriendsQuery({ variables: { first: 100 } });
  const [application, apply] = useSendFriendApplicationMutation();
  const [asked, setAsked] = useState<Set<string>>(new Set());
  const [remarking, setRemark] = useSetFriendRemarkMutation();
  /** The friend whose remark is being edited. */
  const [editing, setEditing] = useState<string | null>(null);
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
      {application.error && <p className="error">{errorText(application.error)}</p>}
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
            <span className="title" data-testid="friend-name">
              {friend.remark ?? friend.user.nickname}
              {friend.remark && <small> ({friend.user.nickname})</small>}
            </span>
            <button type="button" className="link" onClick={() => setEditing(editing === friend.user.id ? null : friend.user.id)} data-testid="edit-friend-remark">
              Remark
            </button>
            <button type="button" onClick={() => onOpenChat(friend.conversationId)} data-testid="open-chat">
              Chat
            </button>
            {editing === friend.user.id && (
              <InlineEdit
                label="My remark for this friend"
                value={friend.remark}
                maxLength={64}
                onSave={(remark) => setRemark({ userId: friend.user.id, remark }).then((r) => !r.error && setEditing(null))}
                testId="friend-remark"
              />
            )}
          </li>
        ))}
      </ul>
      {remarking.error && <p className="error">{errorText(remarking.error)}</p>}
    </div>
  );
}
