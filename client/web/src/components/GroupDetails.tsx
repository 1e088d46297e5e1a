import { useState } from 'react';
import type { GroupRole } from '../../../generated/graphql';
import {
  useFriendsQuery,
  useGroupQuery,
  useInviteToGroupMutation,
  useLeaveGroupMutation,
  useRemoveGroupMemberMutation,
  useSetGroupMemberRoleMutation,
} from '../../../generated/hooks';
import { useImEvent, useSession } from '../im-context';

/** A group's members and roles; the owner sets roles, owner and admins invite and remove, members leave. */
export function GroupDetails({ groupId }: { groupId: string }) {
  const { me } = useSession();
  const [group, refetch] = useGroupQuery({ variables: { id: groupId, firstMembers: 200 } });
  const [friends] = useFriendsQuery({ variables: { first: 100 } });
  const [invited, invite] = useInviteToGroupMutation();
  const [roleChange, setRole] = useSetGroupMemberRoleMutation();
  const [removal, remove] = useRemoveGroupMemberMutation();
  const [leaving, leave] = useLeaveGroupMutation();
  const [inviteeId, setInviteeId] = useState('');
  useImEvent('group', (event) => {
    if (event.group.id === groupId) refetch({ requestPolicy: 'network-only' });
  });

  const data = group.data?.group;
  if (!data) return <aside className="details">{group.error ? group.error.message : 'Loading…'}</aside>;
  const myRole = data.members.find((m) => m.user.id === me.id)?.role;
  const manages = myRole === 'OWNER' || myRole === 'ADMIN';
  const memberIds = new Set(data.members.map((m) => m.user.id));
  const invitable = friends.data?.friends.filter((f) => !memberIds.has(f.user.id)) ?? [];
  const error = invited.error ?? roleChange.error ?? removal.error ?? leaving.error;
  const changeRole = (userId: string, role: GroupRole) => setRole({ groupId, userId, role });

  return (
    <aside className="details" data-testid="group-details">
      <h3>{data.name}</h3>
      {data.notice && <p className="notice">{data.notice}</p>}
      <small className="id">id {data.id}</small>
      <ul className="list" data-testid="group-members">
        {data.members.map((member) => (
          <li key={member.user.id} className="row" data-testid={`member-${member.user.username}`}>
            <span className="title">{member.user.nickname}</span>
            <small data-testid="member-role">{member.role.toLowerCase()}</small>
            {myRole === 'OWNER' && member.role !== 'OWNER' && (
              <button type="button" className="link" onClick={() => changeRole(member.user.id, member.role === 'ADMIN' ? 'MEMBER' : 'ADMIN')}>
                {member.role === 'ADMIN' ? 'Make member' : 'Make admin'}
              </button>
            )}
            {manages && member.role === 'MEMBER' && member.user.id !== me.id && (
              <button type="button" className="link" onClick={() => remove({ groupId, userId: member.user.id })}>
                Remove
              </button>
            )}
          </li>
        ))}
      </ul>
      {manages && invitable.length > 0 && (
        <div className="row">
          <select value={inviteeId} onChange={(e) => setInviteeId(e.target.value)} data-testid="invite-select">
            <option value="">Invite a friend…</option>
            {invitable.map((f) => (
              <option key={f.user.id} value={f.user.id}>
                {f.user.nickname}
              </option>
            ))}
          </select>
          <button type="button" disabled={!inviteeId} onClick={() => invite({ groupId, userIds: [inviteeId] }).then(() => setInviteeId(''))} data-testid="invite">
            Invite
          </button>
        </div>
      )}
      {error && <p className="error">{error.message}</p>}
      {myRole !== 'OWNER' && (
        <button type="button" onClick={() => leave({ groupId })} data-testid="leave-group">
          Leave group
        </button>
      )}
    </aside>
  );
}
