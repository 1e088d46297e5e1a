import { filetypeinfo } from 'magic-bytes.js';

/** How many first bytes {@link sniff} needs. */
export const SNIFF_BYTES = 4100;

/** A type as {@link sniff} names it. */
export interface SniffedType {
  /** The MIME type, as browsers and `<audio>`/`<video>` expect it. */
  mime: string;
  /** The usual file extension, without the dot. */
  extension: string;
}

const ascii = (head: Uint8Array, start: number, end: number): string => Buffer.from(head.subarray(start, end)).toString('latin1');

/**
 * Containers the library names by family (it lists every Matroska flavour for an EBML header and calls any Ogg
 * `application/ogg`): what is inside decides what a player needs, and the head says it.
 */
const refinements: Record<string, (head: Uint8Array) => SniffedType> = {
  mkv: (head) => (ascii(head, 0, 64).includes('webm') ? { mime: 'video/webm', extension: 'webm' } : { mime: 'video/x-matroska', extension: 'mkv' }),
  ogx: (head) => (ascii(head, 28, 36).includes('theora') ? { mime: 'video/ogg', extension: 'ogv' } : { mime: 'audio/ogg', extension: 'ogg' }),
  // An ISO-BMFF file whose major brand is M4A is audio (voice notes recorded on phones), the rest is video.
  mp4: (head) => (ascii(head, 8, 12) === 'M4A ' ? { mime: 'audio/mp4', extension: 'm4a' } : { mime: 'video/mp4', extension: 'mp4' }),
  // audio/wav is the registered name; browsers accept it, while the library answers the legacy audio/x-wav.
  wav: () => ({ mime: 'audio/wav', extension: 'wav' }),
};

/**
 * The type the first bytes show (magic numbers, via the magic-bytes.js library), or undefined. The library
 * lists every format sharing a signature (a ZIP head also matches DOCX, JAR, APK…); the first one with a MIME
 * type is the family, which is all the bytes can prove. Plain text has no signature and answers undefined.
 */
export function sniff(head: Uint8Array): SniffedType | undefined {
  const found = filetypeinfo(head.subarray(0, SNIFF_BYTES)).find((guess) => guess.mime !== undefined);
  if (!found?.mime) return undefined;
  const refine = refinements[found.typename];
  return refine ? refine(head) : { mime: found.mime, extension: found.extension ?? found.typename };
}
