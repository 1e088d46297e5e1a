import { useRef, useState, type ChangeEvent, type FormEvent } from 'react';
import { useSendTypingMutation } from '../../../generated/hooks';

/** At most one TypingEvent per this interval; the receiver shows it for about 3 s, so it never flickers off while typing. */
const TYPING_THROTTLE_MS = 2000;

/**
 * The message box: Enter sends, typing tells the others (throttled); Attach sends picked files, one message each.
 * While `blocked` says why the viewer may not send, it shows that instead and takes nothing.
 */
export function Composer({
  conversationId,
  onSend,
  onAttach,
  blocked,
}: {
  conversationId: string;
  onSend: (text: string) => void;
  onAttach: (files: File[]) => void;
  /** Why sending is refused here now; undefined when the viewer may send. @default undefined */
  blocked?: string;
}) {
  const [text, setText] = useState('');
  const [, sendTyping] = useSendTypingMutation();
  const lastTyping = useRef(0);
  const picker = useRef<HTMLInputElement>(null);

  const attach = (event: ChangeEvent<HTMLInputElement>) => {
    const files = Array.from(event.target.files ?? []);
    // Cleared, so that picking the same file again sends it again.
    event.target.value = '';
    if (files.length) onAttach(files);
  };

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
    if (!content || blocked) return;
    onSend(content);
    setText('');
    lastTyping.current = 0;
  };

  return (
    <form className="composer" onSubmit={submit}>
      {blocked && (
        <p className="composer-notice" data-testid="composer-notice">
          {blocked}
        </p>
      )}
      <fieldset className="composer-controls" disabled={blocked !== undefined}>
        <input type="file" multiple hidden ref={picker} onChange={attach} data-testid="composer-file" />
        <button type="button" onClick={() => picker.current?.click()} title="Send images or files" data-testid="composer-attach">
          Attach
        </button>
        <input value={text} onChange={(e) => change(e.target.value)} placeholder="Message" maxLength={5000} data-testid="composer-input" />
        <button type="submit" data-testid="composer-send">
          Send
        </button>
      </fieldset>
    </form>
  );
}
