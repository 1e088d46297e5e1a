import { useRef, useState, type FormEvent } from 'react';
import { useSendTypingMutation } from '../../../generated/hooks';

/** At most one TypingEvent per this interval; the receiver shows it for about 3 s, so it never flickers off while typing. */
const TYPING_THROTTLE_MS = 2000;

/** The message box: Enter sends, typing tells the others (throttled). */
export function Composer({ conversationId, onSend }: { conversationId: string; onSend: (text: string) => void }) {
  const [text, setText] = useState('');
  const [, sendTyping] = useSendTypingMutation();
  const lastTyping = useRef(0);

  const change = (value: string) => {
    setText(value);
    const now = Date.now();
    if (value && now - lastTyping.current > TYPING_THROTTLE_MS) {
      lastTyping.current = now;
      void sendTyping({ conversationId });
    }
  };

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const content = text.trim();
    if (!content) return;
    onSend(content);
    setText('');
    lastTyping.current = 0;
  };

  return (
    <form className="composer" onSubmit={submit}>
      <input value={text} onChange={(e) => change(e.target.value)} placeholder="Message" maxLength={5000} data-testid="composer-input" />
      <button type="submit" data-testid="composer-send">
        Send
      </button>
    </form>
  );
}
