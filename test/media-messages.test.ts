import { befriend, errorCode, friendPair, gql, ok, register, subscribe, type TestUser } from './support/client';
import { ADAPTERS, download, mediaRoute, pngImage, startMediaServer, storedKeys, uploadBytes } from './support/media';
import type { TestServer } from './support/server';

const MEDIA = 'media { uploadId name size contentType width height durationMs url thumbnailUrl expiresAt }';
const SEND = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id seq type content status ${MEDIA} } }`;
const SYNC = `query($cursor: String) { syncMessages(cursor: $cursor) { messages { id type content ${MEDIA} } cursor hasMore } }`;
const HISTORY = `query($c: ID!) { messages(conversationId: $c) { id type ${MEDIA} } }`;
const RECALL = `mutation($id: ID!) { recallMessage(id: $id) { id status content ${MEDIA} } }`;
const EVENTS = `subscription { events { __typename ... on MessageEvent { message { id type content ${MEDIA} } } } }`;

let cmid = 0;
const nextCmid = () => `media-${process.pid}-${cmid++}`;

describe.each(ADAPTERS)('media messages on %s storage', (adapter) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startMediaServer(adapter);
  });
  afterAll(() => server?.close());

  const pair = (prefix: string) => friendPair(server, prefix);
  const sendMedia = (from: TestUser, to: TestUser, type: string, content: object, clientMessageId = nextCmid()) =>
    gql(server, SEND, { input: { toUserId: to.id, type, content: JSON.stringify(content), clientMessageId } }, from.token);

  it('should deliver an image message live and through syncMessages with working URLs and a small thumbnail', async () => {
    const { a, b } = await pair('img');
    const image = await pngImage(800, 600, 1);
    const upload = await uploadBytes(server, a, image, 'photo.png', 'image/png');
    const live = await subscribe(server, b, EVENTS);
    try {
      const sent = await sendMedia(a, b, 'IMAGE', { url: upload.url });
      expect(sent.errors).toBeUndefined();
      const message = sent.data.sendMessage;
      expect(message.media).toMatchObject({ uploadId: upload.id, name: 'photo.png', size: image.length, contentType: 'image/png', width: 800, height: 600 });
      expect(JSON.parse(message.content)).toMatchObject({ uploadId: upload.id, size: image.length, contentType: 'image/png', width: 800, height: 600, thumbnail: true });
      expect(JSON.parse(message.content).sha256).toMatch(/^[0-9a-f]{64}$/);

      const event = await live.next((e) => e.__typename === 'MessageEvent' && e.message.id === message.id);
      expect(event.message.media).toMatchObject({ uploadId: upload.id, width: 800, height: 600 });
      const synced = (await ok(server, SYNC, { cursor: null }, b.token)).syncMessages.messages.find((m: any) => m.id === message.id);
      expect(synced.media.url).toBe(event.message.media.url);

      const original = await download(server, synced.media.url);
      expect(original.status).toBe(200);
      expect(original.contentType).toBe('image/png');
      expect(original.bytes.equals(image)).toBe(true);
      const thumbnail = await download(server, synced.media.thumbnailUrl);
      expect(thumbnail.status).toBe(200);
      expect(thumbnail.contentType).toBe('image/webp');
      expect(thumbnail.bytes.length).toBeGreaterThan(0);
      expect(thumbnail.bytes.length).toBeLessThanOrEqual(50_000);
    } finally {
      await live.close();
    }
  });

  it('should hand out the same signed URL on repeated reads, so that browsers can cache', async () => {
    const { a, b, conversationId } = await pair('cache');
    const upload = await uploadBytes(server, a, await pngImage(64, 64, 2), 'small.png', 'image/png');
    expect((await sendMedia(a, b, 'IMAGE', { uploadId: upload.id })).errors).toBeUndefined();
    const first = (await ok(server, HISTORY, { c: conversationId }, b.token)).messages[0].media;
    const second = (await ok(server, HISTORY, { c: conversationId }, b.token)).messages[0].media;
    expect(second.url).toBe(first.url);
    expect(new Date(first.expiresAt).getTime()).toBeGreaterThan(Date.now() + 3000_000);
  });

  it('should offer a FILE for download under its name, with the declared type', async () => {
    const { a, b, conversationId } = await pair('file');
    const bytes = Buffer.from('col1,col2\n1,2\n');
    const upload = await uploadBytes(server, a, bytes, 'report.csv', 'text/csv');
    expect((await sendMedia(a, b, 'FILE', { uploadId: upload.id })).errors).toBeUndefined();
    const media = (await ok(server, HISTORY, { c: conversationId }, b.token)).messages[0].media;
    expect(media).toMatchObject({ name: 'report.csv', size: bytes.length, contentType: 'text/csv', thumbnailUrl: null });
    const file = await download(server, media.url);
    expect(file.status).toBe(200);
    expect(file.bytes.equals(bytes)).toBe(true);
    expect(file.disposition).toMatch(/attachment/);
    expect(file.disposition).toMatch(/report\.csv/);
  });

  it('should send a voice note with its declared duration, and refuse bytes that are not audio', async () => {
    const { a, b } = await pair('voice');
    const ogg = Buffer.concat([Buffer.from('OggS\0\x02'), Buffer.alloc(200, 1)]);
    const upload = await uploadBytes(server, a, ogg, 'note.ogg', 'audio/ogg');
    const sent = await sendMedia(a, b, 'VOICE', { uploadId: upload.id, durationMs: 4200 });
    expect(sent.errors).toBeUndefined();
    expect(sent.data.sendMessage.media).toMatchObject({ contentType: 'audio/ogg', durationMs: 4200, size: ogg.length, thumbnailUrl: null });
    expect((await download(server, sent.data.sendMessage.media.url)).bytes.equals(ogg)).toBe(true);
    const text = await uploadBytes(server, a, Buffer.from('not a sound'), 'note.ogg', 'audio/ogg');
    const refused = await sendMedia(a, b, 'VOICE', { uploadId: text.id, durationMs: 1000 });
    expect(refused.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const tooLong = await sendMedia(a, b, 'VOICE', { uploadId: upload.id, durationMs: 3_600_001 });
    expect(tooLong.errors?.[0]?.message).toMatch(/^content\.durationMs:/);
  });

  it('should keep TEXT messages without media', async () => {
    const { a, b } = await pair('text');
    const sent = await ok(server, SEND, { input: { toUserId: b.id, content: 'hi', clientMessageId: nextCmid() } }, a.token);
    expect(sent.sendMessage.media).toBeNull();
  });

  it("should not let a non-member read a conversation's media, while GET /media/<id> serves its uploader", async () => {
    const { a, b, conversationId } = await pair('priv');
    const outsider = await register(server, 'privC');
    const upload = await uploadBytes(server, a, await pngImage(32, 32, 3), 'secret.png', 'image/png');
    expect((await sendMedia(a, b, 'IMAGE', { uploadId: upload.id })).errors).toBeUndefined();
    expect(['FORBIDDEN', 'NOT_FOUND']).toContain(await errorCode(server, HISTORY, { c: conversationId }, outsider.token));
    const synced = (await ok(server, SYNC, { cursor: null }, outsider.token)).syncMessages.messages;
    expect(synced).toHaveLength(0);
    expect((await mediaRoute(server, upload.id, outsider.token)).status).toBe(404);
    expect((await mediaRoute(server, upload.id, b.token)).status).toBe(404);
    const own = await mediaRoute(server, upload.id, a.token);
    expect(own.status).toBe(302);
    expect((await download(server, own.location!)).status).toBe(200);
    const anonymous = await fetch(`${server.url}/media/${upload.id}`, { redirect: 'manual' });
    expect(anonymous.status).toBe(401);
  });

  it('should stop serving the media of a recalled message', async () => {
    const { a, b, conversationId } = await pair('recall');
    const upload = await uploadBytes(server, a, await pngImage(48, 48, 4), 'oops.png', 'image/png');
    const message = (await sendMedia(a, b, 'IMAGE', { uploadId: upload.id })).data.sendMessage;
    const before = (await ok(server, HISTORY, { c: conversationId }, b.token)).messages[0].media;
    expect((await download(server, before.url)).status).toBe(200);
    const recalled = (await ok(server, RECALL, { id: message.id }, a.token)).recallMessage;
    expect(recalled).toMatchObject({ status: 'RECALLED', content: '', media: null });
    expect((await ok(server, HISTORY, { c: conversationId }, b.token)).messages[0].media).toBeNull();
    expect((await download(server, before.url)).status).toBe(404);
    expect((await download(server, before.thumbnailUrl)).status).toBe(404);
    expect((await mediaRoute(server, upload.id, a.token)).status).toBe(404);
  });

  it('should store identical files once and keep them while another message refers to them', async () => {
    const { a, b, conversationId } = await pair('dedup');
    const image = await pngImage(100, 100, 5);
    const first = await uploadBytes(server, a, image, 'one.png', 'image/png');
    const second = await uploadBytes(server, b, image, 'two.png', 'image/png');
    const m1 = (await sendMedia(a, b, 'IMAGE', { uploadId: first.id })).data.sendMessage;
    const m2 = (await sendMedia(b, a, 'IMAGE', { uploadId: second.id })).data.sendMessage;
    const sha = JSON.parse(m1.content).sha256;
    expect(JSON.parse(m2.content).sha256).toBe(sha);
    expect((await storedKeys(server, 'media/')).filter((k) => k === `media/${sha}`)).toHaveLength(1);
    expect(await storedKeys(server, `uploads/${first.id}`)).toHaveLength(0);
    // Recalling one leaves the other's media served.
    await ok(server, RECALL, { id: m1.id }, a.token);
    const media = (await ok(server, HISTORY, { c: conversationId }, a.token)).messages.find((m: any) => m.id === m2.id).media;
    expect((await download(server, media.url)).status).toBe(200);
  });
});

describe('media retention', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startMediaServer('local', { MEDIA_RETENTION_DAYS: '1' });
  });
  afterAll(() => server?.close());

  it('should stop serving and delete the media of messages past MEDIA_RETENTION_DAYS', async () => {
    const a = await register(server, 'retA');
    const b = await register(server, 'retB');
    await befriend(server, a, b);
    const upload = await uploadBytes(server, a, await pngImage(40, 40, 20), 'old.png', 'image/png');
    const sent = await gql(server, SEND, { input: { toUserId: b.id, type: 'IMAGE', content: JSON.stringify({ uploadId: upload.id }), clientMessageId: nextCmid() } }, a.token);
    const url = sent.data.sendMessage.media.url;
    expect((await download(server, url)).status).toBe(200);
    const report = await server.app.cleanup.runOnce(Date.now() + 2 * 86_400_000);
    expect(report.expired).toBe(1);
    expect((await download(server, url)).status).toBe(404);
    expect((await mediaRoute(server, upload.id, a.token)).status).toBe(404);
  });
});
