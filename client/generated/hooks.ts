import * as Operations from './graphql';
import * as Urql from 'urql';
export type Omit<T, K extends keyof T> = Pick<T, Exclude<keyof T, K>>;


export function useRegisterMutation() {
  return Urql.useMutation<Operations.RegisterMutation, Operations.RegisterMutationVariables>(Operations.RegisterDocument);
};

export function useLoginMutation() {
  return Urql.useMutation<Operations.LoginMutation, Operations.LoginMutationVariables>(Operations.LoginDocument);
};

export function useRefreshTokenMutation() {
  return Urql.useMutation<Operations.RefreshTokenMutation, Operations.RefreshTokenMutationVariables>(Operations.RefreshTokenDocument);
};

export function useLogoutMutation() {
  return Urql.useMutation<Operations.LogoutMutation, Operations.LogoutMutationVariables>(Operations.LogoutDocument);
};

export function useChangePasswordMutation() {
  return Urql.useMutation<Operations.ChangePasswordMutation, Operations.ChangePasswordMutationVariables>(Operations.ChangePasswordDocument);
};

export function useIceServersQuery(options?: Omit<Urql.UseQueryArgs<Operations.IceServersQueryVariables>, 'query'>) {
  return Urql.useQuery<Operations.IceServersQuery, Operations.IceServersQueryVariables>({ query: Operations.IceServersDocument, ...options });
};

export function useInviteCallMutation() {
  return Urql.useMutation<Operations.InviteCallMutation, Operations.InviteCallMutationVariables>(Operations.InviteCallDocument);
};

export function useAcceptCallMutation() {
  return Urql.useMutation<Operations.AcceptCallMutation, Operations.AcceptCallMutationVariables>(Operations.AcceptCallDocument);
};

export function useRejectCallMutation() {
  return Urql.useMutation<Operations.RejectCallMutation, Operations.RejectCallMutationVariables>(Operations.RejectCallDocument);
};

export function useCancelCallMutation() {
  return Urql.useMutation<Operations.CancelCallMutation, Operations.CancelCallMutationVariables>(Operations.CancelCallDocument);
};

export function useHangUpCallMutation() {
  return Urql.useMutation<Operations.HangUpCallMutation, Operations.HangUpCallMutationVariables>(Operations.HangUpCallDocument);
};

export function useSendCallSignalMutation() {
  return Urql.useMutation<Operations.SendCallSignalMutation, Operations.SendCallSignalMutationVariables>(Operations.SendCallSignalDocument);
};

export function useContactsQuery(options?: Omit<Urql.UseQueryArgs<Operations.ContactsQueryVariables>, 'query'>) {
  return Urql.useQuery<Operations.ContactsQuery, Operations.ContactsQueryVariables>({ query: Operations.ContactsDocument, ...options });
};

export function useMarkConversationReadMutation() {
  return Urql.useMutation<Operations.MarkConversationReadMutation, Operations.MarkConversationReadMutationVariables>(Operations.MarkConversationReadDocument);
};

export function useSetContactPinnedMutation() {
  return Urql.useMutation<Operations.SetContactPinnedMutation, Operations.SetContactPinnedMutationVariables>(Operations.SetContactPinnedDocument);
};

export function useSetContactMutedMutation() {
  return Urql.useMutation<Operations.SetContactMutedMutation, Operations.SetContactMutedMutationVariables>(Operations.SetContactMutedDocument);
};

export function useHideContactMutation() {
  return Urql.useMutation<Operations.HideContactMutation, Operations.HideContactMutationVariables>(Operations.HideContactDocument);
};

export function useEventsSubscription<TData = Operations.EventsSubscription>(options?: Omit<Urql.UseSubscriptionArgs<Operations.EventsSubscriptionVariables>, 'query'>, handler?: Urql.SubscriptionHandler<Operations.EventsSubscription, TData>) {
  return Urql.useSubscription<Operations.EventsSubscription, TData, Operations.EventsSubscriptionVariables>({ query: Operations.EventsDocument, ...options }, handler);
};

export function useFriendsQuery(options?: Omit<Urql.UseQueryArgs<Operations.FriendsQueryVariables>, 'query'>) {
  return Urql.useQuery<Operations.FriendsQuery, Operations.FriendsQueryVariables>({ query: Operations.FriendsDocument, ...options });
};

export function useRemoveFriendMutation() {
  return Urql.useMutation<Operations.RemoveFriendMutation, Operations.RemoveFriendMutationVariables>(Operations.RemoveFriendDocument);
};

export function useApplicationsQuery(options?: Omit<Urql.UseQueryArgs<Operations.ApplicationsQueryVariables>, 'query'>) {
  return Urql.useQuery<Operations.ApplicationsQuery, Operations.ApplicationsQueryVariables>({ query: Operations.ApplicationsDocument, ...options });
};

export function useSendFriendApplicationMutation() {
  return Urql.useMutation<Operations.SendFriendApplicationMutation, Operations.SendFriendApplicationMutationVariables>(Operations.SendFriendApplicationDocument);
};

export function useApplyToJoinGroupMutation() {
  return Urql.useMutation<Operations.ApplyToJoinGroupMutation, Operations.ApplyToJoinGroupMutationVariables>(Operations.ApplyToJoinGroupDocument);
};

export function useAcceptApplicationMutation() {
  return Urql.useMutation<Operations.AcceptApplicationMutation, Operations.AcceptApplicationMutationVariables>(Operations.AcceptApplicationDocument);
};

export function useRejectApplicationMutation() {
  return Urql.useMutation<Operations.RejectApplicationMutation, Operations.RejectApplicationMutationVariables>(Operations.RejectApplicationDocument);
};

export function useSetFriendRemarkMutation() {
  return Urql.useMutation<Operations.SetFriendRemarkMutation, Operations.SetFriendRemarkMutationVariables>(Operations.SetFriendRemarkDocument);
};

export function useGroupsQuery(options?: Omit<Urql.UseQueryArgs<Operations.GroupsQueryVariables>, 'query'>) {
  return Urql.useQuery<Operations.GroupsQuery, Operations.GroupsQueryVariables>({ query: Operations.GroupsDocument, ...options });
};

export function useGroupQuery(options: Omit<Urql.UseQueryArgs<Operations.GroupQueryVariables>, 'query'>) {
  return Urql.useQuery<Operations.GroupQuery, Operations.GroupQueryVariables>({ query: Operations.GroupDocument, ...options });
};

export function useCreateGroupMutation() {
  return Urql.useMutation<Operations.CreateGroupMutation, Operations.CreateGroupMutationVariables>(Operations.CreateGroupDocument);
};

export function useUpdateGroupMutation() {
  return Urql.useMutation<Operations.UpdateGroupMutation, Operations.UpdateGroupMutationVariables>(Operations.UpdateGroupDocument);
};

export function useInviteToGroupMutation() {
  return Urql.useMutation<Operations.InviteToGroupMutation, Operations.InviteToGroupMutationVariables>(Operations.InviteToGroupDocument);
};

export function useRemoveGroupMemberMutation() {
  return Urql.useMutation<Operations.RemoveGroupMemberMutation, Operations.RemoveGroupMemberMutationVariables>(Operations.RemoveGroupMemberDocument);
};

export function useSetGroupMemberRoleMutation() {
  return Urql.useMutation<Operations.SetGroupMemberRoleMutation, Operations.SetGroupMemberRoleMutationVariables>(Operations.SetGroupMemberRoleDocument);
};

export function useTransferGroupOwnershipMutation() {
  return Urql.useMutation<Operations.TransferGroupOwnershipMutation, Operations.TransferGroupOwnershipMutationVariables>(Operations.TransferGroupOwnershipDocument);
};

export function useLeaveGroupMutation() {
  return Urql.useMutation<Operations.LeaveGroupMutation, Operations.LeaveGroupMutationVariables>(Operations.LeaveGroupDocument);
};

export function useDissolveGroupMutation() {
  return Urql.useMutation<Operations.DissolveGroupMutation, Operations.DissolveGroupMutationVariables>(Operations.DissolveGroupDocument);
};

export function useSetGroupDisplayNameMutation() {
  return Urql.useMutation<Operations.SetGroupDisplayNameMutation, Operations.SetGroupDisplayNameMutationVariables>(Operations.SetGroupDisplayNameDocument);
};

export function useSetGroupRemarkMutation() {
  return Urql.useMutation<Operations.SetGroupRemarkMutation, Operations.SetGroupRemarkMutationVariables>(Operations.SetGroupRemarkDocument);
};

export function useSetGroupMuteAllMutation() {
  return Urql.useMutation<Operations.SetGroupMuteAllMutation, Operations.SetGroupMuteAllMutationVariables>(Operations.SetGroupMuteAllDocument);
};

export function useMessagesQuery(options: Omit<Urql.UseQueryArgs<Operations.MessagesQueryVariables>, 'query'>) {
  return Urql.useQuery<Operations.MessagesQuery, Operations.MessagesQueryVariables>({ query: Operations.MessagesDocument, ...options });
};

export function useSyncMessagesQuery(options?: Omit<Urql.UseQueryArgs<Operations.SyncMessagesQueryVariables>, 'query'>) {
  return Urql.useQuery<Operations.SyncMessagesQuery, Operations.SyncMessagesQueryVariables>({ query: Operations.SyncMessagesDocument, ...options });
};

export function useMessageReadersQuery(options: Omit<Urql.UseQueryArgs<Operations.MessageReadersQueryVariables>, 'query'>) {
  return Urql.useQuery<Operations.MessageReadersQuery, Operations.MessageReadersQueryVariables>({ query: Operations.MessageReadersDocument, ...options });
};

export function useSendMessageMutation() {
  return Urql.useMutation<Operations.SendMessageMutation, Operations.SendMessageMutationVariables>(Operations.SendMessageDocument);
};

export function useRecallMessageMutation() {
  return Urql.useMutation<Operations.RecallMessageMutation, Operations.RecallMessageMutationVariables>(Operations.RecallMessageDocument);
};

export function useSendTypingMutation() {
  return Urql.useMutation<Operations.SendTypingMutation, Operations.SendTypingMutationVariables>(Operations.SendTypingDocument);
};

export function useMeQuery(options?: Omit<Urql.UseQueryArgs<Operations.MeQueryVariables>, 'query'>) {
  return Urql.useQuery<Operations.MeQuery, Operations.MeQueryVariables>({ query: Operations.MeDocument, ...options });
};

export function useUserQuery(options: Omit<Urql.UseQueryArgs<Operations.UserQueryVariables>, 'query'>) {
  return Urql.useQuery<Operations.UserQuery, Operations.UserQueryVariables>({ query: Operations.UserDocument, ...options });
};

export function useSearchUsersQuery(options: Omit<Urql.UseQueryArgs<Operations.SearchUsersQueryVariables>, 'query'>) {
  return Urql.useQuery<Operations.SearchUsersQuery, Operations.SearchUsersQueryVariables>({ query: Operations.SearchUsersDocument, ...options });
};

export function useUpdateProfileMutation() {
  return Urql.useMutation<Operations.UpdateProfileMutation, Operations.UpdateProfileMutationVariables>(Operations.UpdateProfileDocument);
};

export function useCreateUploadMutation() {
  return Urql.useMutation<Operations.CreateUploadMutation, Operations.CreateUploadMutationVariables>(Operations.CreateUploadDocument);
};