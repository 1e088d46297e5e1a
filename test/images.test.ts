import sharp from 'sharp';
import { ImageRefusedError, makeThumbnail, probeImage } from '../src/uploads/images';
import { SNIFF_BYTES, sniff } from '../src/uploads/sniff';

const solid = (width: number, height: number, background = '#3366cc') =>
  sharp({ create: { width, height, channels: 3, background } });

/** Two frames of 64x48, red then blue, as one strip of pages (how libvips holds an animation). */
const twoFrames = (): sharp.Sharp => {
  const frame = 64 * 48 * 3;
  const pixels = Buffer.alloc(frame * 2);
  for (let i = 0; i < frame; i += 3) pixels[i] = 255;
  for (let i = frame; i < frame * 2; i += 3) pixels[i + 2] = 255;
  return sharp(pixels, { raw: { width: 64, height: 96, channels: 3, pageHeight: 48 } });
};

/** The first pixel's red, green and blue. */
const firstPixel = async (image: Buffer): Promise<number[]> => [...(await sharp(image).raw().toBuffer()).subarray(0, 3)];

const refusal = async (promise: Promise<unknown>): Promise<string> => {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(ImageRefusedError);
  return (error as Error).message;
};

const bytes = (...parts: Array<string | number[]>): Buffer =>
  Buffer.concat(parts.map((part) => (typeof part === 'string' ? Buffer.from(part, 'latin1') : Buffer.from(part))));

describe('sniff', () => {
  it('should recognise the images a chat sends by their first bytes', async () => {
    expect(sniff(await solid(8, 8).jpeg().toBuffer())).toEqual({ mime: 'image/jpeg', extension: 'jpeg' });
    expect(sniff(await solid(8, 8).png().toBuffer())).toEqual({ mime: 'image/png', extension: 'png' });
    expect(sniff(await solid(8, 8).gif().toBuffer())).toEqual({ mime: 'image/gif', extension: 'gif' });
    expect(sniff(await solid(8, 8).webp().toBuffer())).toEqual({ mime: 'image/webp', extension: 'webp' });
  });

  it('should tell audio and video containers apart by what their heads say is inside', () => {
    const ftyp = (brand: string) => bytes([0, 0, 0, 0x20], 'ftyp', brand, [0, 0, 0, 0], brand, 'isom');
    expect(sniff(ftyp('isom'))).toEqual({ mime: 'video/mp4', extension: 'mp4' });
    expect(sniff(ftyp('M4A '))).toEqual({ mime: 'audio/mp4', extension: 'm4a' });
    const ebml = (docType: string) => bytes([0x1a, 0x45, 0xdf, 0xa3, 0x9f, 0x42, 0x86, 0x81, 0x01, 0x42, 0x82, 0x84], docType);
    expect(sniff(ebml('webm'))).toEqual({ mime: 'video/webm', extension: 'webm' });
    expect(sniff(ebml('matroska'))).toEqual({ mime: 'video/x-matroska', extension: 'mkv' });
    const ogg = (codec: string) => bytes('OggS', [0, 2], new Array<number>(22).fill(0), codec, new Array<number>(8).fill(0));
    expect(sniff(ogg('OpusHead'))).toEqual({ mime: 'audio/ogg', extension: 'ogg' });
    expect(sniff(ogg('\x80theora'))).toEqual({ mime: 'video/ogg', extension: 'ogv' });
    expect(sniff(bytes('ID3', [4, 0, 0, 0, 0, 0, 0]))).toEqual({ mime: 'audio/mpeg', extension: 'mp3' });
    expect(sniff(bytes([0xff, 0xfb, 0x90, 0x64, 0, 0]))).toEqual({ mime: 'audio/mpeg', extension: 'mp3' });
    expect(sniff(bytes('RIFF', [0x24, 8, 0, 0], 'WAVEfmt '))).toEqual({ mime: 'audio/wav', extension: 'wav' });
  });

  it('should recognise documents and archives, and answer undefined for plain text', () => {
    expect(sniff(bytes('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n'))).toEqual({ mime: 'application/pdf', extension: 'pdf' });
    expect(sniff(bytes('PK', [3, 4, 20, 0, 0, 0, 8, 0]))).toEqual({ mime: 'application/zip', extension: 'zip' });
    expect(sniff(bytes('hello bob, see you at 8\n'.repeat(300)))).toBeUndefined();
    expect(sniff(new Uint8Array(0))).toBeUndefined();
  });

  it('should look at no more than SNIFF_BYTES', () => {
    const late = Buffer.concat([Buffer.from('plain text\n'.repeat(SNIFF_BYTES)), bytes('%PDF-1.7\n')]);
    expect(sniff(late)).toBeUndefined();
  });
});

describe('probeImage', () => {
  it('should read width, height, format and whether the image moves', async () => {
    await expect(probeImage(await solid(300, 200).png().toBuffer(), { maxPixels: 1e6 })).resolves.toEqual({
      width: 300, height: 200, format: 'png', animated: false,
    });
    await expect(probeImage(await solid(40, 30).jpeg().toBuffer(), { maxPixels: 1e6 })).resolves.toEqual({
      width: 40, height: 30, format: 'jpeg', animated: false,
    });
    await expect(probeImage(await twoFrames().gif().toBuffer(), { maxPixels: 1e6 })).resolves.toEqual({
      width: 64, height: 48, format: 'gif', animated: true,
    });
    await expect(probeImage(await twoFrames().webp().toBuffer(), { maxPixels: 1e6 })).resolves.toEqual({
      width: 64, height: 48, format: 'webp', animated: true,
    });
  });

  it('should give the size as displayed when EXIF turns the photo', async () => {
    const portrait = await solid(200, 100).jpeg().withMetadata({ orientation: 6 }).toBuffer();
    await expect(probeImage(portrait, { maxPixels: 1e6 })).resolves.toMatchObject({ width: 100, height: 200 });
  });

  it('should refuse what is not an image, and formats browsers do not show safely, saying so', async () => {
    expect(await refusal(probeImage(Buffer.from('hello, not an image'), { maxPixels: 1e6 }))).toMatch(/^not an image/);
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script></svg>');
    expect(await refusal(probeImage(svg, { maxPixels: 1e6 }))).toMatch(/^not an image: svg is not accepted/);
    expect(await refusal(probeImage(await solid(10, 10).tiff().toBuffer(), { maxPixels: 1e6 }))).toMatch(/tiff is not accepted/);
  });

  it('should refuse an image of more pixels than maxPixels before decoding it', async () => {
    const huge = await solid(9000, 9000).png({ compressionLevel: 9 }).toBuffer();
    expect(huge.length).toBeLessThan(1_000_000);
    expect(await refusal(probeImage(huge, { maxPixels: 40e6 }))).toMatch(/9000x9000 pixels, more than maxPixels \(40000000\)/);
    expect(await refusal(makeThumbnail(huge))).toMatch(/more than maxPixels/);
    await expect(probeImage(huge, { maxPixels: 81e6 })).resolves.toMatchObject({ width: 9000, height: 9000 });
  });
});

describe('makeThumbnail', () => {
  it('should fit a noisy 4000x3000 photo into 50,000 bytes of WebP at most 256 px on the long side', async () => {
    // Random pixels in blocks of 16: noise that survives the downscale, so the thumbnail is noise too.
    const noise = sharp({ create: { width: 250, height: 188, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 90 } } });
    const photo = await sharp(await noise.png().toBuffer()).resize(4000, 3000, { kernel: 'nearest', fit: 'fill' }).jpeg({ quality: 95 }).toBuffer();
    const thumbnail = await makeThumbnail(photo);
    expect(thumbnail).toMatchObject({ contentType: 'image/webp', width: 256, height: 192 });
    expect(thumbnail.data.length).toBeLessThanOrEqual(50_000);
    expect(sniff(thumbnail.data)?.mime).toBe('image/webp');
    await expect(sharp(thumbnail.data).metadata()).resolves.toMatchObject({ format: 'webp', width: 256, height: 192 });
    // A lower quality fits a tighter budget before the size has to give.
    const lower = await makeThumbnail(photo, { maxBytes: 20_000 });
    expect(lower.data.length).toBeLessThanOrEqual(20_000);
    expect(lower.data.length).toBeLessThan(thumbnail.data.length);
    expect(lower).toMatchObject({ width: 256, height: 192 });
  });

  it('should step down quality, then size, until the thumbnail fits maxBytes', async () => {
    const noise = sharp({ create: { width: 800, height: 800, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 90 } } });
    const photo = await noise.png().toBuffer();
    const generous = await makeThumbnail(photo, { maxBytes: 1_000_000 });
    const tight = await makeThumbnail(photo, { maxBytes: 3_000 });
    expect(tight.data.length).toBeLessThanOrEqual(3_000);
    expect(tight.data.length).toBeLessThan(generous.data.length);
    expect(tight.width).toBeLessThan(256);
    await expect(sharp(tight.data).metadata()).resolves.toMatchObject({ width: tight.width, height: tight.height });
  });

  it('should never enlarge a small image', async () => {
    const thumbnail = await makeThumbnail(await solid(40, 30).png().toBuffer());
    expect(thumbnail).toMatchObject({ width: 40, height: 30 });
    await expect(sharp(thumbnail.data).metadata()).resolves.toMatchObject({ width: 40, height: 30 });
  });

  it('should make a still of the first frame of an animated GIF or WebP', async () => {
    for (const animation of [await twoFrames().gif().toBuffer(), await twoFrames().webp({ lossless: true }).toBuffer()]) {
      const thumbnail = await makeThumbnail(animation);
      expect(thumbnail).toMatchObject({ width: 64, height: 48 });
      const metadata = await sharp(thumbnail.data).metadata();
      expect(metadata.pages ?? 1).toBe(1);
      const [red, , blue] = await firstPixel(thumbnail.data);
      expect(red).toBeGreaterThan(200);
      expect(blue).toBeLessThan(50);
    }
  });

  it('should turn the photo by its EXIF orientation and strip the metadata', async () => {
    const portrait = await solid(400, 200).jpeg().withMetadata({ orientation: 6 }).toBuffer();
    expect((await sharp(portrait).metadata()).exif).toBeDefined();
    const thumbnail = await makeThumbnail(portrait);
    expect(thumbnail).toMatchObject({ width: 128, height: 256 });
    const metadata = await sharp(thumbnail.data).metadata();
    expect(metadata).toMatchObject({ width: 128, height: 256 });
    expect(metadata.exif).toBeUndefined();
    expect(metadata.orientation).toBeUndefined();
  });

  it('should refuse a truncated image whose header is sound', async () => {
    const photo = await solid(600, 400).jpeg({ quality: 90 }).toBuffer();
    expect(await refusal(makeThumbnail(photo.subarray(0, 600)))).toMatch(/^not a readable image/);
  });
});
