import { useState } from 'react';
import type { MessageType } from '../../../generated/graphql';
import { formatBytes, parseMediaContent } from '../media-content';
import { ImageViewer } from './ImageViewer';

/** The longest side (px) an image takes in the history; the server's thumbnails are at most this. */
const THUMBNAIL_SIDE = 256;

/** An attachment's signed URLs and what the server measured (Message.media). */
export interface MediaLinks {
  name: string;
  size: number;
  contentType: string;
  width?: number | null;
  height?: number | null;
  url: string;
  thumbnailUrl?: string | null;
}

/** Width and height that keep the aspect ratio within {@link THUMBNAIL_SIDE}, so the space is kept before the image loads. */
function thumbnailBox(width?: number | null, height?: number | null): { width?: number; height?: number } {
  if (!width || !height) return {};
  const scale = Math.min(1, THUMBNAIL_SIDE / Math.max(width, height));
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

/**
 * An attachment: an image as its thumbnail that opens the full image, voice and video as players, anything else
 * as a download link with name and size. Without `media` (past the server's retention) only the name is left.
 */
export function MediaBody({ type, content, media }: { type: MessageType; content: string; media: MediaLinks | null | undefined }) {
  const [viewing, setViewing] = useState(false);
  const name = media?.name ?? parseMediaContent(type, content)?.name ?? 'attachment';
  if (!media) {
    return (
      <em className="media" data-testid="media-gone">
        [{type.toLowerCase()}] {name} is no longer available
      </em>
    );
  }
  if (type === 'IMAGE') {
    return (
      <>
        <button type="button" className="thumbnail" onClick={() => setViewing(true)} title={`Open ${name}`} data-testid="media-image">
          <img src={media.thumbnailUrl ?? media.url} alt={name} {...thumbnailBox(media.width, media.height)} data-testid="media-thumbnail" />
        </button>
        {viewing && <ImageViewer url={media.url} name={name} onClose={() => setViewing(false)} />}
      </>
    );
  }
  if (type === 'VOICE') return <audio className="voice" controls preload="none" src={media.url} data-testid="media-voice" />;
  if (type === 'VIDEO') {
    return <video className="video" controls preload="metadata" src={media.url} {...thumbnailBox(media.width, media.height)} data-testid="media-video" />;
  }
  return (
    <a className="file" href={media.url} download={name} target="_blank" rel="noreferrer" data-testid="media-file">
      <span className="file-name">{name}</span> <small>{formatBytes(media.size)}</small>
    </a>
  );
}
