import { useCallback, useEffect, useRef } from 'react';
import type { ContactFieldsFragment } from '../../../generated/graphql';
import { useContactsQuery } from '../../../generated/hooks';
import { useImEvent } from '../im-context';

/** How long a burst of events is gathered before one refetch (a catch-up delivers many messages at once). */
const REFETCH_DELAY_MS = 100;

/** The contact list as the server computes it (order, unread counts, mentions), refetched after every event that may change it. */
export function useContacts(): { contacts: ContactFieldsFragment[]; error?: string; refetch: () => void } {
  const [result, reexecute] = useContactsQuery({ variables: { first: 100 } });
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const refetch = useCallback(() => {
    clearTimeout(timer.current);
    timer.current = setTimeout(() => reexecute({ requestPolicy: 'network-only' }), REFETCH_DELAY_MS);
  }, [reexecute]);
  useEffect(() => () => clearTimeout(timer.current), []);

  useImEvent('message', refetch);
  useImEvent('recalled', refetch);
  useImEvent('readReceipt', refetch);
  useImEvent('presence', refetch);
  useImEvent('friendAdded', refetch);
  useImEvent('friendRemoved', refetch);
  useImEvent('group', refetch);
  // After a reconnect the unread counts may have moved while no events could arrive.
  useImEvent('state', (state) => state === 'connected' && refetch());

  // A refetch that fails (the server is away) keeps the list on screen, and with it the open conversation.
  const lastContacts = useRef<ContactFieldsFragment[]>([]);
  if (result.data) lastContacts.current = result.data.contacts;
  return { contacts: lastContacts.current, error: result.error?.message, refetch };
}
