import { useState, type FormEvent } from 'react';
import { useApplyToJoinGroupMutation, useCreateGroupMutation, useFriendsQuery, useGroupsQuery } from '../../../generated/hooks';
import { errorText } from '../errors';
import { useImEvent } from '../im-context';

/** The viewer's groups; create one with friends, or ask to join one by its id. */
export function GroupsPanel({ onOpenChat }: { onOpenChat: (conversationId: string) => void }) {
  const [groups, refetchGroups] = useGroupsQuery({ variables: { first: 100 } });
  const [friends] = useFriendsQuery({ variables: { first: 100 } });
  const [creating, createGroup] = useCreateGroupMutation();
  const [joining, applyToJoin] = useApplyToJoinGroupMutation();
  const [name, setName] = useState('');
  const [memberIds, setMemberIds] = useState<Set<string>>(new Set());
  const [groupId, setGroupId] = useState('');
  const [joinNotice, setJoinNotice] = useState('');
  useImEvent('group', () => refetchGroups({ requestPolicy: 'network-only' }));

  const toggle = (id: string) =>
    setMemberIds((current) => {
      const next = new Set(current);
      if (!next.delete(id)) next.add(id);
      return next;
    });
  const create = async (event: FormEvent) => {
    event.preventDefault();
    const result = await createGroup({ input: { name: name.trim(), memberIds: [...memberIds] } });
    if (!result.data) return;
    setName('');
    setMemberIds(new Set());
    refetchGroups({ requestPolicy: 'network-only' });
    onOpenChat(result.data.createGroup.conversationId);
  };
  const join = async (event: FormEvent) => {
    event.preventDefault();
    const result = await applyToJoin({ groupId: groupId.trim() });
    if (result.data) {
      setJoinNotice(`Asked to join ${result.data.applyToJoinGroup.group?.name ?? 'the group'}`);
      setGroupId('');
    }
  };

  return (
    <div className="panel">
      <h3>My groups</h3>
      <ul className="list" data-testid="group-list">
        {groups.data?.groups.length === 0 && <li className="placeholder">No groups yet.</li>}
        {groups.data?.groups.map((group) => (
          <li key={group.id} className="row" data-testid={`group-${group.name}`}>
            <span className="title">
              {group.remark && <span data-testid="group-remark">{group.remark} · </span>}
              {group.name} <small>({group.memberCount})</small>
              <br />
              <small className="id" title="Others join with this id" data-testid="group-id">
                id {group.id}
              </small>
            </span>
            <button type="button" onClick={() => onOpenChat(group.conversationId)} data-testid="open-group-chat">
              Chat
            </button>
          </li>
        ))}
      </ul>
      <form className="stack" onSubmit={create} data-testid="create-group-form">
        <h3>New group</h3>
        <input value={name} onChange={(e) => setName(e.target.value)} placeholder="Group name" required maxLength={32} data-testid="group-name-input" />
        {friends.data?.friends.map((friend) => (
          <label key={friend.user.id} className="check">
            <input type="checkbox" checked={memberIds.has(friend.user.id)} onChange={() => toggle(friend.user.id)} data-testid={`group-member-${friend.user.username}`} />
            {friend.user.nickname}
          </label>
        ))}
        {creating.error && <p className="error">{errorText(creating.error)}</p>}
        <button type="submit" disabled={creating.fetching} data-testid="create-group">
          Create group
        </button>
      </form>
      <form className="stack" onSubmit={join}>
        <h3>Join a group</h3>
        <input value={groupId} onChange={(e) => setGroupId(e.target.value)} placeholder="Group id" required data-testid="join-group-input" />
        {joining.error && <p className="error">{errorText(joining.error)}</p>}
        {joinNotice && <p className="notice">{joinNotice}</p>}
        <button type="submit" disabled={joining.fetching} data-testid="join-group">
          Ask to join
        </button>
      </form>
    </div>
  );
}
