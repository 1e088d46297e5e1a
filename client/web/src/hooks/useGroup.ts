import type { GroupQuery, GroupRole } from '../../../generated/graphql';
import { useGroupQuery } from '../../../generated/hooks';
import { useImEvent, useSession } from '../im-context';

/** Members loaded with a group: the details panel lists them, and the viewer's own role decides what they may do. */
const MEMBERS_SHOWN = 200;

/** A group as its open chat shows it. */
export interface GroupView {
  group: NonNullable<GroupQuery['group']> | null;
  /** The viewer's role; undefined while loading or once they are no longer a member. */
  myRole?: GroupRole;
  /** Owner or admin: they may invite, remove, mute everyone, and still send while everyone is muted. */
  manages: boolean;
  error?: string;
}

/**
 * A group with its members, refetched on every GroupEvent about it (a member renamed, the group updated, muted,
 * banned or unbanned), so the chat and its details panel follow changes made by anyone. No group (a private
 * chat): nothing is asked.
 */
export function useGroup(groupId: string | undefined): GroupView {
  const { me } = useSession();
  const [result, refetch] = useGroupQuery({ variables: { id: groupId ?? '', firstMembers: MEMBERS_SHOWN }, pause: !groupId });
  useImEvent('group', (event) => {
    if (event.group.id === groupId) refetch({ requestPolicy: 'network-only' });
  });
  const group = result.data?.group ?? null;
  const myRole = group?.members.find((m) => m.user.id === me.id)?.role;
  return { group, myRole, manages: myRole === 'OWNER' || myRole === 'ADMIN', error: result.error?.message };
}
