import { Redis } from 'ioredis';
import { friendPair, gql, ok, register, type TestUser } from './support/client';
import { ADAPTERS, CREATE_UPLOAD, createUpload, download, mediaRoute, pngImage, put, startMediaServer, storedKeys, uploadBytes } from './support/media';
import type { TestServer } from './support/server';

const SEND = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id content media { url } } }`;
const PROFILE = `mutation($input: UpdateProfileInput!) { updateProfile(input: $input) { id avatarUrl avatarThumbnailUrl } }`;
const USER = `query($id: ID!) { user(id: $id) { id avatarUrl avatarThumbnailUrl } }`;
const CREATE_GROUP = `mutation($input: CreateGroupInput!) { createGroup(input: $input) { id } }`;
const UPDATE_GROUP = `mutation($id: ID!, $input: UpdateGroupInput!) { updateGroup(id: $id, input: $input) { id avatarUrl avatarThumbnailUrl } }`;

let cmid = 0;
const nextCmid = () => `up-${process.pid}-${cmid++}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(ADAPTERS)('uploads on %s storage', (adapter) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startMediaServer(adapter);
  });
  afterAll(() => server?.close());

  const pair = (prefix: string) => friendPair(server, prefix);
  const sendMedia = (from: TestUser, to: TestUser, type: string, content: object, clientMessageId = nextCmid()) =>
    gql(server, SEND, { input: { toUserId: to.id, type, content: JSON.stringify(content), clientMessageId } }, from.token);
  const refusal = (result: { errors?: Array<{ message: string; extensions?: { code?: string } }> }) => {
    expect(result.errors).toHaveLength(1);
    return { code: result.errors![0]!.extensions?.code, message: result.errors![0]!.message };
  };

  describe('createUpload', () => {
    it('should refuse a size over the limit of the type, naming the limit', async () => {
      const a = await register(server, 'big');
      const result = await gql(server, CREATE_UPLOAD, { input: { filename: 'x.png', contentType: 'image/png', size: 12_000_000 } }, a.token);
      expect(refusal(result)).toEqual({ code: 'BAD_USER_INPUT', message: 'size: 12000000 bytes is over the 10485760-byte limit for IMAGE' });
      const voice = await gql(server, CREATE_UPLOAD, { input: { filename: 'v.ogg', contentType: 'audio/ogg', size: 6_000_000 } }, a.token);
      expect(refusal(voice).message).toMatch(/5242880-byte limit for VOICE/);
    });

    it('should refuse content types not allowed for the type, and bad file names', async () => {
      const a = await register(server, 'type');
      const svg = await gql(server, CREATE_UPLOAD, { input: { filename: 'x.svg', contentType: 'image/svg+xml', size: 10 } }, a.token);
      expect(refusal(svg)).toMatchObject({ code: 'BAD_USER_INPUT', message: expect.stringMatching(/^contentType: image\/svg\+xml is not allowed for IMAGE/) });
      const mismatch = await gql(server, CREATE_UPLOAD, { input: { filename: 'x.txt', contentType: 'text/plain', size: 10, type: 'VOICE' } }, a.token);
      expect(refusal(mismatch).message).toMatch(/^contentType: text\/plain is not allowed for VOICE/);
      const garbage = await gql(server, CREATE_UPLOAD, { input: { filename: 'x', contentType: 'nonsense', size: 10 } }, a.token);
      expect(refusal(garbage).message).toMatch(/^contentType:/);
      const path = await gql(server, CREATE_UPLOAD, { input: { filename: '../etc/passwd', contentType: 'text/plain', size: 10 } }, a.token);
      expect(refusal(path).message).toMatch(/^filename:/);
      const empty = await gql(server, CREATE_UPLOAD, { input: { filename: 'a.txt', contentType: 'text/plain', size: 0 } }, a.token);
      expect(refusal(empty).message).toMatch(/^size:/);
    });

    it('should limit createUpload per user', async () => {
      const a = await register(server, 'many');
      const input = { filename: 'a.txt', contentType: 'text/plain', size: 1 };
      const results = await Promise.all(Array.from({ length: 40 }, () => gql(server, CREATE_UPLOAD, { input }, a.token)));
      const codes = results.map((r) => r.errors?.[0]?.extensions?.code ?? 'OK');
      expect(codes.filter((c) => c === 'OK').length).toBeGreaterThanOrEqual(30);
      expect(codes).toContain('RATE_LIMITED');
    });

    it('should return an unguessable id, its url under /media and the PUT header', async () => {
      const a = await register(server, 'shape');
      const upload = await createUpload(server, a, { filename: 'a.png', contentType: 'image/png', size: 100 });
      expect(upload.id).toMatch(/^[A-Za-z0-9_-]{22}$/);
      expect(upload.url).toMatch(new RegExp(`/media/${upload.id}$`));
      expect(upload.maxBytes).toBe(100);
      expect(upload.headers).toEqual([{ name: 'Content-Type', value: 'image/png' }]);
    });
  });

  describe('sending what was uploaded', () => {
    it('should refuse a lying content type (text declared as image/png) and throw the bytes away', async () => {
      const { a, b } = await pair('liar');
      const upload = await uploadBytes(server, a, Buffer.from('just some text, not a picture at all'), 'fake.png', 'image/png');
      const { code, message } = refusal(await sendMedia(a, b, 'IMAGE', { uploadId: upload.id }));
      expect(code).toBe('BAD_USER_INPUT');
      expect(message).toMatch(/^content\.uploadId: the bytes are .*not the declared image\/png/);
      expect(await storedKeys(server, `uploads/${upload.id}`)).toHaveLength(0);
    });

    it('should refuse a FILE declared as an image whose bytes are not one, and accept other files as declared', async () => {
      const { a, b } = await pair('fileliar');
      const liar = await uploadBytes(server, a, Buffer.from('plain text'), 'pic.png', 'image/png', 'FILE');
      expect(refusal(await sendMedia(a, b, 'FILE', { uploadId: liar.id })).code).toBe('BAD_USER_INPUT');
      const honest = await uploadBytes(server, a, Buffer.from('plain text'), 'notes.txt', 'text/plain');
      expect((await sendMedia(a, b, 'FILE', { uploadId: honest.id })).errors).toBeUndefined();
    });

    it('should refuse a file larger than declared', async () => {
      const { a, b } = await pair('larger');
      const upload = await createUpload(server, a, { filename: 'a.txt', contentType: 'text/plain', size: 10 });
      const status = await put(upload, Buffer.alloc(5000, 'x'));
      // The local store refuses at the door; S3 takes the PUT, and the send finds the size wrong.
      if (adapter === 'local') expect(status).toBe(413);
      const { code, message } = refusal(await sendMedia(a, b, 'FILE', { uploadId: upload.id }));
      expect(code).toBe('BAD_USER_INPUT');
      expect(message).toMatch(adapter === 'local' ? /not uploaded/ : /more than the 10 declared/);
      expect(await storedKeys(server, `uploads/${upload.id}`)).toHaveLength(0);
    });

    it('should refuse an upload that was never uploaded', async () => {
      const { a, b } = await pair('never');
      const upload = await createUpload(server, a, { filename: 'a.png', contentType: 'image/png', size: 100 });
      expect(refusal(await sendMedia(a, b, 'IMAGE', { uploadId: upload.id }))).toEqual({ code: 'BAD_USER_INPUT', message: 'content.uploadId: the file was not uploaded' });
    });

    it("should answer NOT_FOUND for someone else's upload", async () => {
      const { a, b } = await pair('other');
      const upload = await uploadBytes(server, b, await pngImage(16, 16, 10), 'b.png', 'image/png');
      expect(refusal(await sendMedia(a, b, 'IMAGE', { uploadId: upload.id })).code).toBe('NOT_FOUND');
      expect(refusal(await sendMedia(a, b, 'IMAGE', { uploadId: 'AAAAAAAAAAAAAAAAAAAAAA' })).code).toBe('NOT_FOUND');
    });

    it('should put an upload in one message only, while a resend returns the stored message', async () => {
      const { a, b } = await pair('twice');
      const upload = await uploadBytes(server, a, await pngImage(16, 16, 11), 'a.png', 'image/png');
      const clientMessageId = nextCmid();
      const first = await sendMedia(a, b, 'IMAGE', { uploadId: upload.id }, clientMessageId);
      expect(first.errors).toBeUndefined();
      const resent = await sendMedia(a, b, 'IMAGE', { uploadId: upload.id }, clientMessageId);
      expect(resent.data.sendMessage.id).toBe(first.data.sendMessage.id);
      expect(refusal(await sendMedia(a, b, 'IMAGE', { uploadId: upload.id })).code).toBe('CONFLICT');
    });

    it('should refuse content that names no upload, and an upload of another type', async () => {
      const { a, b } = await pair('shape');
      expect(refusal(await sendMedia(a, b, 'IMAGE', { name: 'x.png' })).message).toMatch(/^content\.uploadId:/);
      const file = await uploadBytes(server, a, Buffer.from('abc'), 'a.txt', 'text/plain');
      expect(refusal(await sendMedia(a, b, 'IMAGE', { uploadId: file.id })).message).toMatch(/made for FILE messages, not IMAGE/);
    });

    if (adapter === 'local') {
      it('should accept one PUT per upload URL', async () => {
        const a = await register(server, 'reuse');
        const upload = await createUpload(server, a, { filename: 'a.txt', contentType: 'text/plain', size: 3 });
        expect(await put(upload, Buffer.from('abc'))).toBeLessThan(300);
        expect(await put(upload, Buffer.from('xyz'))).toBe(409);
      });
    }
  });

  describe('expired upload URLs', () => {
    let shortLived: TestServer;
    beforeAll(async () => {
      shortLived = await startMediaServer(adapter, { UPLOAD_URL_TTL_SECONDS: '1' });
    });
    afterAll(() => shortLived?.close());

    it('should refuse a PUT after the upload URL expired', async () => {
      const a = await register(shortLived, 'late');
      const upload = await createUpload(shortLived, a, { filename: 'a.txt', contentType: 'text/plain', size: 3 });
      await sleep(2100);
      expect(await put(upload, Buffer.from('abc'))).toBe(403);
    });
  });

  describe('clean-up', () => {
    it('should delete uploads never used after UPLOAD_ORPHAN_HOURS and keep attached ones', async () => {
      const { a, b } = await pair('clean');
      const orphan = await uploadBytes(server, a, Buffer.from('orphan bytes'), 'o.txt', 'text/plain');
      const used = await uploadBytes(server, a, await pngImage(20, 20, 12), 'u.png', 'image/png');
      const message = (await sendMedia(a, b, 'IMAGE', { uploadId: used.id })).data.sendMessage;
      const report = await server.app.cleanup.runOnce(Date.now() + 25 * 3_600_000);
      expect(report.ran).toBe(true);
      expect(report.orphans).toBeGreaterThanOrEqual(1);
      expect(await storedKeys(server, `uploads/${orphan.id}`)).toHaveLength(0);
      expect((await mediaRoute(server, orphan.id, a.token)).status).toBe(404);
      expect((await download(server, message.media.url)).status).toBe(200);
      expect((await mediaRoute(server, used.id, a.token)).status).toBe(302);
    });

    it('should delete old objects under uploads/ that no pending upload claims', async () => {
      const stray = 'uploads/strayStrayStrayStray0';
      await server.app.storage.write(stray, Buffer.from('left behind'), 'text/plain');
      await server.app.cleanup.runOnce(Date.now() + 25 * 3_600_000);
      expect(await storedKeys(server, stray)).toHaveLength(0);
    });

    it('should keep young uploads', async () => {
      const a = await register(server, 'young');
      const upload = await uploadBytes(server, a, Buffer.from('fresh'), 'f.txt', 'text/plain');
      await server.app.cleanup.runOnce();
      expect(await storedKeys(server, `uploads/${upload.id}`)).toHaveLength(1);
    });
  });

  (process.env.TEST_REDIS_URL ? describe : describe.skip)('clean-up in a cluster', () => {
    const prefix = `media-test-${process.pid}-${adapter}:`;
    let clustered: TestServer;
    let redis: Redis;
    beforeAll(async () => {
      clustered = await startMediaServer(adapter, { REDIS_URL: process.env.TEST_REDIS_URL!, REDIS_KEY_PREFIX: prefix });
      redis = new Redis(process.env.TEST_REDIS_URL!);
    });
    afterAll(async () => {
      await redis?.quit();
      await clustered?.close();
    });

    it('should run on one node at a time, skipping while another holds the Redis lock', async () => {
      await redis.set(`${prefix}media-cleanup`, 'another-node', 'PX', 10_000);
      expect((await clustered.app.cleanup.runOnce()).ran).toBe(false);
      await redis.del(`${prefix}media-cleanup`);
      expect((await clustered.app.cleanup.runOnce()).ran).toBe(true);
      // Released by its holder: the next run takes it again.
      expect(await redis.get(`${prefix}media-cleanup`)).toBeNull();
    });
  });

  describe('avatars', () => {
    it('should take an uploaded image as avatar that any signed-in user can read, and release the one it replaces', async () => {
      const { a } = await pair('avatar');
      const stranger = await register(server, 'avatarC');
      const first = await uploadBytes(server, a, await pngImage(300, 200, 13), 'me.png', 'image/png');
      const profile = (await ok(server, PROFILE, { input: { avatarUploadId: first.id } }, a.token)).updateProfile;
      expect(profile.avatarThumbnailUrl).toBeTruthy();
      const seen = (await ok(server, USER, { id: a.id }, stranger.token)).user;
      const avatar = await download(server, seen.avatarUrl);
      expect(avatar.status).toBe(200);
      expect(avatar.contentType).toBe('image/png');
      expect((await download(server, seen.avatarThumbnailUrl)).status).toBe(200);
      expect((await mediaRoute(server, first.id, stranger.token)).status).toBe(302);

      const second = await uploadBytes(server, a, await pngImage(300, 200, 14), 'me2.png', 'image/png');
      await ok(server, PROFILE, { input: { avatarUploadId: second.id } }, a.token);
      expect((await download(server, seen.avatarUrl)).status).toBe(404);
      expect((await mediaRoute(server, first.id, stranger.token)).status).toBe(404);
      // A plain URL still works as before.
      const plain = (await ok(server, PROFILE, { input: { avatarUrl: 'https://example.com/a.png' } }, a.token)).updateProfile;
      expect(plain).toMatchObject({ avatarUrl: 'https://example.com/a.png', avatarThumbnailUrl: null });
    });

    it('should refuse a non-image upload as avatar, and let only owners and admins set a group avatar', async () => {
      const { a, b } = await pair('gavatar');
      const file = await uploadBytes(server, a, Buffer.from('abc'), 'a.txt', 'text/plain');
      expect(refusal(await gql(server, PROFILE, { input: { avatarUploadId: file.id } }, a.token)).message).toMatch(/^avatarUploadId: must be an IMAGE upload/);
      const group = (await ok(server, CREATE_GROUP, { input: { name: 'pics', memberIds: [b.id] } }, a.token)).createGroup;
      const mine = await uploadBytes(server, b, await pngImage(64, 64, 15), 'g.png', 'image/png');
      expect(refusal(await gql(server, UPDATE_GROUP, { id: group.id, input: { avatarUploadId: mine.id } }, b.token)).code).toBe('FORBIDDEN');
      const owners = await uploadBytes(server, a, await pngImage(64, 64, 16), 'g.png', 'image/png');
      const updated = (await ok(server, UPDATE_GROUP, { id: group.id, input: { avatarUploadId: owners.id } }, a.token)).updateGroup;
      expect((await download(server, updated.avatarUrl)).status).toBe(200);
      expect((await download(server, updated.avatarThumbnailUrl)).contentType).toBe('image/webp');
    });
  });
});
