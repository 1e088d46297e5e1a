import type { MessageFieldsFragment } from '../../../generated/graphql';
import { useRecallMessageMutation } from '../../../generated/hooks';
import type { PendingAttachment, PendingMessage } from '../hooks/useConversation';
import { describeCall } from '../call-content';
import { formatBytes, isText } from '../media-content';
import { MediaBody } from './MediaBody';

/** The text of a message, its attachment, or the line a call left; a recalled message shows none. */
function Body({ message }: { message: MessageFieldsFragment }) {
  if (message.status === 'RECALLED') return <em className="recalled">Message recalled</em>;
  if (isText(message.type)) return <span className="text">{message.content}</span>;
  if (message.type === 'CALL') {
    return (
      <span className="call-line" data-testid="call-line">
        {describeCall(message.content)}
      </span>
    );
  }
  return <MediaBody type={message.type} content={message.content} media={message.media} />;
}

/**
 * A SYSTEM message (a business service speaking: an order shipped, maintenance tonight): a centred notice with
 * the service's name, not a bubble anyone could answer or recall.
 */
export function SystemNotice({ message }: { message: MessageFieldsFragment }) {
  return (
    <div className="system-notice" data-testid="system-message" data-seq={message.seq}>
      <strong>{message.sender.nickname}</strong>: {message.content}
    </div>
  );
}

/** A confirmed message: sender, text, "Read" when the other side has read it, and recall for own messages. */
export function MessageBubble({
  message,
  own,
  read,
  onRecalled,
}: {
  message: MessageFieldsFragment;
  own: boolean;
  read: boolean;
  onRecalled: (messages: MessageFieldsFragment[]) => void;
}) {
  const [recall, recallMessage] = useRecallMessageMutation();
  const doRecall = async () => {
    const result = await recallMessage({ id: message.id });
    if (result.data) onRecalled([result.data.recallMessage]);
  };
  return (
    <div className={`bubble ${own ? 'own' : ''}`} data-testid="message" data-seq={message.seq} data-status={message.status}>
      {!own && <span className="sender">{message.sender.nickname}</span>}
      <Body message={message} />
      <span className="meta">
        {new Date(message.createdAt).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}
        {own && message.conversationType === 'GROUP' && message.readCount !== null && message.readCount > 0 && ` · read by ${message.readCount}`}
        {read && (
          <span className="read" data-testid="read-receipt">
            {' '}
            · Read
          </span>
        )}
        {own && message.status === 'SENT' && (
          <button type="button" className="link" disabled={recall.fetching} onClick={doRecall} data-testid="recall">
            Recall
          </button>
        )}
      </span>
      {recall.error && <span className="error">{recall.error.message}</span>}
    </div>
  );
}

/** A file on its way: the picked image itself or the file's name and size, and how much of it is uploaded. */
function PendingAttachmentBody({ attachment, uploaded }: { attachment: PendingAttachment; uploaded: boolean }) {
  const { file, previewUrl, progress } = attachment;
  return (
    <>
      {previewUrl ? (
        <img className="preview" src={previewUrl} alt={file.name} data-testid="pending-preview" />
      ) : (
        <span className="file">
          <span className="file-name">{file.name}</span> <small>{formatBytes(file.size)}</small>
        </span>
      )}
      {!uploaded && <progress max={1} value={progress} data-testid="upload-progress" />}
    </>
  );
}

/** An own message on its way: "Uploading n%" then "Sending…", or the refusal with a retry button. */
export function PendingBubble({ pending, onRetry }: { pending: PendingMessage; onRetry: () => void }) {
  const uploaded = pending.content !== '';
  return (
    <div className="bubble own pending" data-testid="pending-message">
      {pending.attachment ? (
        <PendingAttachmentBody attachment={pending.attachment} uploaded={uploaded} />
      ) : (
        <span className="text">{pending.content}</span>
      )}
      <span className="meta">
        {pending.error ? (
          <>
            <span className="error">{pending.error}</span>
            <button type="button" className="link" onClick={onRetry} data-testid="retry-send">
              Retry
            </button>
          </>
        ) : pending.attachment && !uploaded ? (
          `Uploading ${Math.round(pending.attachment.progress * 100)}%`
        ) : (
          'Sending…'
        )}
      </span>
    </div>
  );
}
