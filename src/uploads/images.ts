import sharp from 'sharp';

// One libvips thread per operation, and no operation cache: the server has two cores shared with the chat
// itself, so a thumbnail must not take them all, and every input is a new upload, so cached operations would
// never be hit again and would only hold memory.
sharp.concurrency(1);
sharp.cache(false);

/** What {@link probeImage} reads from an image's header. */
export interface ImageFacts {
  /** Pixels, as displayed (after the EXIF orientation). */
  width: number;
  /** Pixels, as displayed (after the EXIF orientation); one frame's height for an animated image. */
  height: number;
  /** `jpeg`, `png`, `gif` or `webp`. */
  format: string;
  /** More than one frame (animated GIF or WebP). */
  animated: boolean;
}

/** The bytes are not an image this server accepts; the message says why. */
export class ImageRefusedError extends Error {
  override name = 'ImageRefusedError';
}

/** The formats every browser displays; anything else (SVG, which can carry scripts, TIFF, HEIF…) is sent as a file. */
const ACCEPTED_FORMATS = new Set(['jpeg', 'png', 'gif', 'webp']);

/** WebP qualities tried in turn until the thumbnail fits. */
const QUALITIES = [70, 50, 35, 20];

/** How much each side shrinks when even the lowest quality is too big. */
const SIDE_STEP = 0.75;

/**
 * Reads the header only; rejects with ImageRefusedError (message says why: not an image / more than maxPixels).
 * @param options.maxPixels the most pixels of one frame (width × height) accepted; the decoder would hold them all.
 */
export async function probeImage(bytes: Buffer, options: { maxPixels: number }): Promise<ImageFacts> {
  let metadata: sharp.Metadata;
  try {
    metadata = await sharp(bytes).metadata();
  } catch (error) {
    throw new ImageRefusedError('not an image: the bytes are in no image format this server reads', { cause: error });
  }
  if (!ACCEPTED_FORMATS.has(metadata.format)) {
    throw new ImageRefusedError(`not an image: ${metadata.format} is not accepted (JPEG, PNG, GIF or WebP are)`);
  }
  const { width, height } = metadata.autoOrient;
  if (width * height > options.maxPixels) {
    throw new ImageRefusedError(`the image has ${width}x${height} pixels, more than maxPixels (${options.maxPixels})`);
  }
  return { width, height, format: metadata.format, animated: (metadata.pages ?? 1) > 1 };
}

/** Thumbnails are made one at a time, so that uploads completing together hold one decoded image, not many. */
let queue: Promise<unknown> = Promise.resolve();
function oneAtATime<T>(work: () => Promise<T>): Promise<T> {
  const run = queue.then(work);
  queue = run.catch(() => undefined);
  return run;
}

/** Raw pixels of a frame, as sharp hands them over and takes them back. */
interface Frame {
  data: Buffer;
  info: { width: number; height: number; channels: sharp.Channels };
}

async function rawFrame(image: sharp.Sharp): Promise<Frame> {
  const { data, info } = await image.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  return { data, info: { width: info.width, height: info.height, channels: info.channels } };
}

/** Options of {@link makeThumbnail}. */
export interface ThumbnailOptions {
  /**
   * The most pixels on the long side; smaller images keep their size.
   * @default 256
   */
  maxSide?: number;
  /**
   * The most bytes of the WebP.
   * @default 50_000
   */
  maxBytes?: number;
  /**
   * The most pixels of the input's first frame (see {@link probeImage}).
   * @default 40_000_000
   */
  maxPixels?: number;
}

/**
 * First frame, at most maxSide px on the long side (never enlarged), WebP, shrunk in quality until <= maxBytes.
 * Turned by its EXIF orientation, and stripped of all metadata (EXIF can carry the place a photo was taken).
 * Rejects with ImageRefusedError for what {@link probeImage} refuses; if even a tiny thumbnail at the lowest
 * quality does not fit maxBytes, with a RangeError.
 */
export async function makeThumbnail(
  bytes: Buffer,
  options: ThumbnailOptions = {},
): Promise<{ data: Buffer; contentType: 'image/webp'; width: number; height: number }> {
  const { maxSide = 256, maxBytes = 50_000, maxPixels = 40_000_000 } = options;
  await probeImage(bytes, { maxPixels });
  return oneAtATime(async () => {
    // The input is decoded once (first frame only, so a GIF of many frames costs one, streamed line by line);
    // the quality and size steps below work on these few raw pixels.
    const decoded = await rawFrame(
      sharp(bytes, { limitInputPixels: maxPixels, animated: false, sequentialRead: true })
        .autoOrient()
        .resize(maxSide, maxSide, { fit: 'inside', withoutEnlargement: true }),
    ).catch((error: unknown) => {
      // A sound header over broken pixel data (a truncated upload) passes the probe and fails here.
      throw new ImageRefusedError(`not a readable image: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    });
    for (let frame = decoded; ; ) {
      for (const quality of QUALITIES) {
        const data = await sharp(frame.data, { raw: frame.info }).webp({ quality }).toBuffer();
        if (data.length <= maxBytes) return { data, contentType: 'image/webp', width: frame.info.width, height: frame.info.height };
      }
      const side = Math.floor(Math.max(frame.info.width, frame.info.height) * SIDE_STEP);
      if (side < 1) throw new RangeError(`makeThumbnail: no thumbnail fits in ${maxBytes} bytes`);
      frame = await rawFrame(sharp(frame.data, { raw: frame.info }).resize(side, side, { fit: 'inside' }));
    }
  });
}
