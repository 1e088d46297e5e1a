import { useState } from 'react';
import type { GroupRole } from '../../../generated/graphql';
import {
  useFriendsQuery,
  useInviteToGroupMutation,
  useLeaveGroupMutation,
  useRemoveGroupMemberMutation,
  useSetGroupDisplayNameMutation,
  useSetGroupMemberRoleMutation,
  useSetGroupMuteAllMutation,
  useSetGroupRemarkMutation,
} from '../../../generated/hooks';
import { errorText } from '../errors';
import type { GroupView } from '../hooks/useGroup';
import { useSession } from '../im-context';
import { InlineEdit } from './InlineEdit';

/**
 * A group's members (by the name they go by in it) and roles; the viewer's own name in it and private remark for
 * it; the owner sets roles, owner and admins invite, remove and mute everyone, members leave.
 */
export function GroupDetails({ groupId, view }: { groupId: string; view: GroupView }) {
  const { me } = useSession();
  const [friends] = useFriendsQuery({ variables: { first: 100 } });
  const [invited, invite] = useInviteToGroupMutation();
  const [roleChange, setRole] = useSetGroupMemberRoleMutation();
  const [removal, remove] = useRemoveGroupMemberMutation();
  const [leaving, leave] = useLeaveGroupMutation();
  const [naming, setDisplayName] = useSetGroupDisplayNameMutation();
  const [remarking, setRemark] = useSetGroupRemarkMutation();
  const [muting, setMuteAll] = useSetGroupMuteAllMutation();
  const [inviteeId, setInviteeId] = useState('');

  const { group: data, myRole, manages } = view;
  if (!data) return <aside className="details">{view.error ?? 'Loading…'}</aside>;
  const memberIds = new Set(data.members.map((m) => m.user.id));
  const invitable = friends.data?.friends.filter((f) => !memberIds.has(f.user.id)) ?? [];
  const myName = data.members.find((m) => m.user.id === me.id)?.displayName;
  const error = invited.error ?? roleChange.error ?? removal.error ?? leaving.error ?? naming.error ?? remarking.error ?? muting.error;
  const changeRole = (userId: string, role: GroupRole) => setRole({ groupId, userId, role });

  return (
    <aside className="details" data-testid="group-details">
      <h3>{data.name}</h3>
      {data.notice && <p className="notice">{data.notice}</p>}
      <small className="id">id {data.id}</small>
      {myRole && (
        <InlineEdit label="My name in this group" value={myName} maxLength={32} onSave={(displayName) => setDisplayName({ groupId, displayName })} testId="display-name" />
      )}
      <InlineEdit label="My remark for this group" value={data.remark} maxLength={64} onSave={(remark) => setRemark({ groupId, remark })} testId="group-remark" />
      {manages && (
        <label className="check">
          <input type="checkbox" checked={data.mutedAll} disabled={muting.fetching} onChange={(e) => setMuteAll({ groupId, muted: e.target.checked })} data-testid="mute-all" />
          Mute everyone (only the owner and admins can send)
        </label>
      )}
      <ul className="list" data-testid="group-members">
        {data.members.map((member) => (
          <li key={member.user.id} className="row" data-testid={`member-${member.user.username}`}>
            <span className="title" data-testid="member-name">
              {member.displayName ?? member.user.nickname}
              {member.displayName && <small> ({member.user.nickname})</small>}
            </span>
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
      {error && <p className="error">{errorText(error)}</p>}
      {myRole !== 'OWNER' && (
        <button type="button" onClick={() => leave({ groupId })} data-testid="leave-group">
          Leave group
        </button>
      )}
    </aside>
  );
}
