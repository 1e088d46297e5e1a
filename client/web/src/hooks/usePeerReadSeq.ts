import { useState } from 'react';
import { useImEvent, useSession } from '../im-context';

/**
 * The highest seq the other side has read: the contact's value, raised at once by live read receipts (the
 * contact list catches up on its next refetch).
 */
export function usePeerReadSeq(conversationId: string, fromContact: number): number {
  const { me } = useSession();
  const [live, setLive] = useState(0);
  useImEvent('readReceipt', (event) => {
    if (event.conversationId === conversationId && event.reader.id !== me.id) setLive((seq) => Math.max(seq, event.seq));
  });
  return Math.max(live, fromContact);
}
