import type { Client } from 'urql';
import { CreateUploadDocument, type MessageType } from '../../generated/graphql';

/** The image types the server accepts as IMAGE (it sniffs the bytes; anything else is sent as a FILE). */
const IMAGE_TYPES = new Set(['image/jpeg', 'image/png', 'image/gif', 'image/webp']);

/** How a picked file is sent: images the server can thumbnail as IMAGE, everything else as FILE. */
export function messageTypeOf(file: File): MessageType {
  return IMAGE_TYPES.has(file.type) ? 'IMAGE' : 'FILE';
}

/**
 * PUTs `file` to `url`, telling `onProgress` the fraction sent. XMLHttpRequest rather than fetch: fetch reports
 * no upload progress (a streamed request body would, but browsers allow that over HTTP/2 only).
 */
function put(url: string, file: File, headers: readonly { name: string; value: string }[], onProgress: (fraction: number) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('PUT', url);
    for (const { name, value } of headers) xhr.setRequestHeader(name, value);
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    };
    xhr.onload = () => (xhr.status >= 200 && xhr.status < 300 ? resolve() : reject(new Error(`the upload was refused (HTTP ${xhr.status})`)));
    xhr.onerror = () => reject(new Error('the upload failed: the connection broke'));
    xhr.send(file);
  });
}

/**
 * Uploads `file` to be sent as `type`: asks the server for an upload URL, PUTs the bytes there with the headers
 * the server lists, and resolves with the content to send (`{"uploadId", "name"}`, see SendMessageInput.content).
 */
export async function uploadFile(urql: Client, file: File, type: MessageType, onProgress: (fraction: number) => void): Promise<string> {
  const contentType = file.type || 'application/octet-stream';
  const input = { filename: file.name, contentType, size: file.size, type };
  const result = await urql.mutation(CreateUploadDocument, { input }).toPromise();
  if (result.error) throw result.error;
  if (!result.data) throw new Error('createUpload answered nothing');
  const upload = result.data.createUpload;
  await put(upload.uploadUrl, file, upload.headers, onProgress);
  return JSON.stringify({ uploadId: upload.id, name: file.name });
}
