import { useEffect, useRef, useState } from 'react';
import { useImEvent, useSession } from '../im-context';

/** How long a TypingEvent keeps its name shown; the sender repeats it while still typing. */
const TYPING_SHOWN_MS = 3000;

/** Nicknames of the others typing in a conversation right now. */
export function useTypingNames(conversationId: string): string[] {
  const { me } = useSession();
  const [names, setNames] = useState<Map<string, string>>(new Map());
  const timers = useRef(new Map<string, ReturnType<typeof setTimeout>>());

  useImEvent('typing', (event) => {
    if (event.conversationId !== conversationId || event.user.id === me.id) return;
    const { id, nickname } = event.user;
    clearTimeout(timers.current.get(id));
    setNames((current) => new Map(current).set(id, nickname));
    timers.current.set(
      id,
      setTimeout(() => {
        timers.current.delete(id);
        setNames((current) => {
          const next = new Map(current);
          next.delete(id);
          return next;
        });
      }, TYPING_SHOWN_MS),
    );
  });
  useEffect(() => {
    const pendingTimers = timers.current;
    return () => pendingTimers.forEach(clearTimeout);
  }, []);
  return [...names.values()];
}
