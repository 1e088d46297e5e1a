import type { MessageType } from '../../generated/graphql';
import { describeCall } from './call-content';

/** The content JSON the server stores for an IMAGE, FILE, VOICE or VIDEO message (see Message.content). */
export interface MediaContent {
  uploadId?: string;
  name?: string;
  /** Bytes, measured by the server. */
  size?: number;
  contentType?: string;
  width?: number | null;
  height?: number | null;
  durationMs?: number | null;
  /** Whether the server made a thumbnail. */
  thumbnail?: boolean;
}

/** Whether a message is plain text: TEXT, or SYSTEM from a service account. */
export const isText = (type: MessageType): boolean => type === 'TEXT' || type === 'SYSTEM';

/** The content of a media message, or null for text, a recalled message (empty content) or JSON that is not an object. */
export function parseMediaContent(type: MessageType, content: string): MediaContent | null {
  if (isText(type) || !content) return null;
  try {
    const parsed: unknown = JSON.parse(content);
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as MediaContent) : null;
  } catch {
    return null;
  }
}

const UNITS = ['KB', 'MB', 'GB'];

/** A size as people read it: 532 B, 12.4 KB, 3.1 MB (powers of 1024). */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${UNITS[unit]}`;
}

/** What a conversation list shows for a message: its text, or the kind of attachment and its name. */
export function messagePreview(message: { type: MessageType; content: string; status: string }): string {
  if (message.status === 'RECALLED') return 'Message recalled';
  if (isText(message.type)) return message.content;
  if (message.type === 'CALL') return describeCall(message.content);
  const name = parseMediaContent(message.type, message.content)?.name;
  return `[${message.type.toLowerCase()}]${name ? ` ${name}` : ''}`;
}
