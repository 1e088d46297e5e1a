import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Redis } from 'ioredis';
import { AdminResolver } from './admin/admin.resolver';
import { AdminService } from './admin/admin.service';
import { AdminStore } from './admin/admin.store';
import { BansResolver } from './admin/bans.resolver';
import { BansService } from './admin/bans.service';
import { BansStore } from './admin/bans.store';
import { ApplicationsResolver } from './applications/applications.resolver';
import { ApplicationsService } from './applications/applications.service';
import { AuthResolver } from './auth/auth.resolver';
import { CallsResolver } from './calls/calls.resolver';
import { CallsService } from './calls/calls.service';
import { AuthService } from './auth/auth.service';
import { shareLookups } from './auth/loaders';
import { Throttle } from './auth/throttle';
import { Tokens } from './auth/tokens';
import type { Logger } from './common/logger';
import type { RateLimiters } from './common/rate-limit/rate-limiter';
import { countRefusals } from './common/rate-limit/rate-limiter.counted';
import type { Config } from './config';
import { createAdapters, createPush, createStorage, storageOrigins } from './adapters';
import { ContactsResolver } from './contacts/contacts.resolver';
import { ContactsService } from './contacts/contacts.service';
import { openDatabase, type Database } from './db/database';
import type { DeliveryEngine } from './delivery/delivery';
import { CloseCode, Hub } from './delivery/hub';
import { Notifier } from './delivery/notifier';
import { EventsResolver } from './events/events.resolver';
import { FriendsResolver } from './friends/friends.resolver';
import { FriendsService } from './friends/friends.service';
import { GroupsResolver } from './groups/groups.resolver';
import { GroupsService } from './groups/groups.service';
import { MessagesResolver } from './messages/messages.resolver';
import { MessagesService } from './messages/messages.service';
import { MessageStore } from './messages/messages.store';
import { ChainedModeration, countVerdicts, type Moderation } from './moderation/moderation';
import { ModerationResolver } from './moderation/moderation.resolver';
import { ModerationService } from './moderation/moderation.service';
import { ModerationStore } from './moderation/moderation.store';
import { WordListSync } from './moderation/moderation.sync';
import { WebhookModeration } from './moderation/moderation.webhook';
import { WordsModeration } from './moderation/moderation.words';
import { Metrics } from './metrics/metrics';
import { OfflineNotifications } from './notifications/offline-notifications';
import type { PushPort } from './notifications/push';
import { PresenceService } from './presence/presence.service';
import { createSchema } from './schema';
import { ServiceAccountsResolver } from './service-accounts/service-accounts.resolver';
import { ServiceAccountsService } from './service-accounts/service-accounts.service';
import { ServiceAccountsStore } from './service-accounts/service-accounts.store';
import { SystemMessagesService } from './service-accounts/system-messages.service';
import { createHttpServer } from './transport/http';
import { attachWebSocket } from './transport/ws';
import { createMediaHandler } from './transport/media-route';
import { createMetricsRoute, createMetricsServer } from './transport/metrics-route';
import { MediaCleanup } from './uploads/cleanup';
import { MediaUrls } from './uploads/media-urls';
import type { ObjectStorage } from './uploads/storage';
import { UploadsResolver } from './uploads/uploads.resolver';
import { UploadsService, UPLOAD_RATE } from './uploads/uploads.service';
import { UploadStore } from './uploads/uploads.store';
import { UsersResolver } from './users/users.resolver';
import { UsersService } from './users/users.service';

/** A running node. */
export interface App {
  /** e.g. http://127.0.0.1:4000 */
  url: string;
  port: number;
  db: Database;
  engine: DeliveryEngine;
  hub: Hub;
  /** The uploads' housekeeping (tests call `runOnce`). */
  cleanup: MediaCleanup;
  /** Where uploaded files live (started). */
  storage: ObjectStorage;
  /** What `/metrics` serves; tests read counters here. */
  metrics: Metrics;
  /** The port of the listener that serves only `/metrics`, when METRICS_PORT is set. */
  metricsPort?: number;
  /** Where offline notifications go (tests subscribe to the memory adapter). */
  push: PushPort;
  /** Offline notifications; the calls module hands ringing callees to its `notify`. */
  offline: OfflineNotifications;
  /** Closes sockets (1012, so clients reconnect elsewhere), stops listening and releases every resource. */
  close(): Promise<void>;
}

/** Parts a caller may supply instead of the defaults this config implies (tests put two nodes on one broker). */
export interface AppOverrides {
  engine?: DeliveryEngine;
  limiters?: RateLimiters;
  /** The metrics a supplied engine reports to, so that this app serves them. @default a registry of its own */
  metrics?: Metrics;
}

/** The composition root: builds every service and adapter for this config and starts listening. */
export async function startApp(config: Config, log: Logger, overrides: AppOverrides = {}): Promise<App> {
  const metrics = overrides.metrics ?? new Metrics({ processMetrics: true });
  const db = await openDatabase(config.database);
  const adapters = await createAdapters(config, log, metrics);
  const engine = overrides.engine ?? adapters.engine;
  const limiters = countRefusals(overrides.limiters ?? adapters.limiters, metrics);
  const notifier = new Notifier(engine, log);
  // Unset, URLs are root-relative: a browser resolves them against the address it opened the app at (localhost,
  // 127.0.0.1 or a LAN address alike), where an absolute default could only guess one.
  const publicUrl = config.publicUrl ?? '';
  const { storage, files } = createStorage(config, log, publicUrl);
  await storage.start();

  const admin = new AdminService(new AdminStore(db));
  const { moderation, moderationAdmin, wordLists } = await startModeration(config, log, metrics, db, adapters.redis, admin);

  const uploadStore = new UploadStore(db);
  const uploads = new UploadsService(uploadStore, storage, limiters.bursty('uploads', UPLOAD_RATE), { limits: config.media, publicUrl });
  const mediaUrls = new MediaUrls(storage, { ttlSeconds: config.media.mediaUrlTtlSeconds, retentionDays: config.media.retentionDays });
  const users = new UsersService(db, moderation, uploads);
  const tokens = new Tokens(config.jwtSecret, config.accessTokenTtlSeconds);
  const throttle = new Throttle(limiters, config.frontDoor);
  const bansStore = new BansStore(db);
  const auth = new AuthService(db, tokens, users, notifier, throttle, moderation, bansStore, config.refreshTokenTtlSeconds);
  const friends = new FriendsService(db, users, notifier);
  const presence = new PresenceService(engine, friends, users, notifier, log);
  const groups = new GroupsService(db, users, friends, presence, notifier, moderation, uploads);
  const applications = new ApplicationsService(db, users, friends, groups, notifier);
  const store = new MessageStore(db);
  const contacts = new ContactsService(db, users, store, groups, notifier);
  const sendLimit = limiters.bursty('messages', { ratePerSecond: config.messageRatePerSecond, burst: config.messageRateBurst });
  const push = createPush(config, metrics, log);
  // The engine, not presence.online, which reads everyone as offline while Redis is away: that would notify them all.
  const offline = new OfflineNotifications(push, { online: (ids) => engine.online(ids), muted: (c, u) => contacts.mutedAmong(c, u) }, metrics, log, {
    collapseMs: config.push.collapseMs,
  });
  const messages = new MessagesService(db, store, contacts, groups, users, notifier, sendLimit, uploads, metrics, offline, moderation);
  const calls = new CallsService(adapters.calls, friends, users, messages, notifier, offline, log, config.calls);
  const hub = new Hub(engine, presence.changed, log);
  const bans = new BansService(bansStore, admin, auth, groups);
  const serviceStore = new ServiceAccountsStore(db);
  const serviceAccounts = new ServiceAccountsService(serviceStore, admin);
  const serviceLimit = limiters.bursty('service-messages', { ratePerSecond: config.serviceRatePerSecond, burst: config.serviceRateBurst });
  const systemMessages = new SystemMessagesService(serviceStore, messages, groups, users, serviceLimit);

  const instances = new Map<unknown, unknown>([
    [AuthResolver, new AuthResolver(auth)],
    [UsersResolver, new UsersResolver(users, mediaUrls)],
    [FriendsResolver, new FriendsResolver(friends)],
    [ApplicationsResolver, new ApplicationsResolver(applications)],
    [ContactsResolver, new ContactsResolver(contacts)],
    [MessagesResolver, new MessagesResolver(messages, mediaUrls)],
    [GroupsResolver, new GroupsResolver(groups, mediaUrls, (ids) => bans.active('GROUP', ids))],
    [UploadsResolver, new UploadsResolver(uploads)],
    [CallsResolver, new CallsResolver(calls)],
    [EventsResolver, new EventsResolver()],
    [AdminResolver, new AdminResolver(admin)],
    [ModerationResolver, new ModerationResolver(moderationAdmin)],
    [BansResolver, new BansResolver(bans)],
    [ServiceAccountsResolver, new ServiceAccountsResolver(systemMessages)],
  ]);
  const schema = await createSchema({ get: (cls) => instances.get(cls) });
  const lookups = shareLookups({
    online: presence.online,
    memberships: (pairs) => groups.memberships(pairs),
    acquaintances: (pairs) => groups.acquaintances(pairs),
  });
  const limits = { maxDepth: config.queryMaxDepth, maxCost: config.queryMaxCost };
  const metricsRoute = createMetricsRoute({ metrics, token: config.metrics.token, log });
  // Its own listener, or the main server's route: never both, so a public API port never answers it.
  const metricsServer = config.metrics.port === undefined ? undefined : createMetricsServer(metricsRoute);
  metrics.probe({
    dbPools: () => db.pools(),
    redis: () => adapters.connections.map((redis) => ({ connection: redis.options.connectionName ?? 'redis', ready: redis.status === 'ready' })),
  });

  const http = await createHttpServer({
    schema,
    auth,
    lookups,
    log,
    limits,
    bodyLimitBytes: config.bodyLimitBytes,
    maxInFlight: config.httpMaxInFlight,
    trustProxyHops: config.trustProxyHops,
    introspection: config.introspection,
    graphql: config.role !== 'push',
    ready: async () => (await db.ping()) && (await engine.ready()),
    media: config.role === 'push' ? undefined : createMediaHandler({ auth, uploads, urls: mediaUrls, log }),
    // Upload and download URLs point where GraphQL is served; push nodes serve neither.
    files: config.role === 'push' ? undefined : files,
    mediaOrigins: storageOrigins(config),
    metrics,
    metricsRoute: metricsServer ? undefined : metricsRoute,
    serviceKeys: (key) => serviceAccounts.authenticate(key),
  });
  const ws =
    config.role === 'platform'
      ? undefined
      : attachWebSocket({
          server: http.server,
          schema,
          auth,
          hub,
          lookups,
          log,
          limits,
          maxPayloadBytes: config.bodyLimitBytes,
          trustProxyHops: config.trustProxyHops,
          maxSubscriptions: config.wsMaxSubscriptions,
          sessionRecheckMs: config.sessionRecheckSeconds * 1000,
          metrics,
        });
  // Deliveries that failed while Redis was away go out again.
  adapters.onReconnect(() => void notifier.retryHeld());
  // SessionEndedEvents sent while Redis was away never arrived: the sockets of those sessions are found and
  // closed first (4403: do not come back). Then, if Redis restarted empty and lost this node's queue (or the
  // subscriber was away while events were published), nothing would tell a recipient of a conversation gone
  // quiet: the other sockets are closed so that their clients reconnect and catch up.
  if (ws) {
    adapters.onReconnect(
      (lost, backAt) =>
        void ws
          .recheckSessions()
          .catch((err: unknown) => log.warn({ err }, 'could not re-check sessions after Redis came back'))
          .then(() => lost && hub.closeAll(CloseCode.serviceRestart, 'Redis lost what it held for this node: reconnect and catch up', backAt)),
    );
  }
  if (config.role !== 'platform') {
    // The adapters' queue is not the one a supplied engine consumes.
    metrics.probe({ connections: () => hub.size, subscriptions: () => hub.streams, queueLength: overrides.engine ? undefined : adapters.queueLength });
    await engine.consume((envelope) => {
      metrics.envelopesConsumed.inc();
      hub.dispatch(envelope);
    });
  }
  if (config.role !== 'push') adapters.liveness?.startJanitor(presence.departed);
  const cleanup = new MediaCleanup({ store: uploadStore, storage, uploads, limits: config.media, log, redis: adapters.redis, keyPrefix: config.redisKeyPrefix });
  if (config.role !== 'push') cleanup.start();
  // Nodes that serve GraphQL end calls that rang too long, whichever of them took the invite.
  if (config.role !== 'push') calls.start();
  if (config.role !== 'platform') {
    await adapters.liveness?.startHeartbeat(
      () => hub.closeAll(CloseCode.serviceRestart, 'this node was taken for dead: reconnect and catch up'),
      presence.departed,
    );
  }

  const port = await listen(http.server, config.port, config.host);
  const metricsPort = metricsServer && (await listen(metricsServer, config.metrics.port!, config.host));
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  log.info({ port, metricsPort, role: config.role, nodeId: engine.nodeId, database: config.database.dialect }, 'listening');

  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${port}`,
    port,
    db,
    engine,
    hub,
    cleanup,
    storage,
    metrics,
    metricsPort,
    push,
    offline,
    close: () =>
      (closing ??= (async () => {
        hub.closeAll(CloseCode.serviceRestart, 'server shutting down');
        await hub.drain(2000);
        await ws?.close();
        await presence.settle();
        http.server.closeAllConnections();
        await new Promise<void>((resolve) => http.server.close(() => resolve()));
        if (metricsServer) {
          metricsServer.closeAllConnections();
          await new Promise<void>((resolve) => metricsServer.close(() => resolve()));
        }
        await http.stop();
        await offline.close();
        await cleanup.stop();
        await calls.stop();
        await wordLists.close();
        await engine.close();
        await adapters.close();
        await storage.close();
        await db.close();
      })()),
  };
}

/**
 * The moderation port the services check texts with (word lists, then the webhook when configured, or the webhook
 * alone in replace mode), the admin service over the lists, and their sync, started: the 'file' list seeded, the
 * lists compiled, changes followed.
 */
async function startModeration(config: Config, log: Logger, metrics: Metrics, db: Database, redis: Redis | undefined, admin: AdminService) {
  const store = new ModerationStore(db);
  const words = new WordsModeration();
  const wordLists = new WordListSync({
    store,
    words,
    redis,
    channel: `${config.redisKeyPrefix}moderation`,
    recheckMs: config.moderation.recheckSeconds * 1000,
    log,
  });
  const moderationAdmin = new ModerationService(store, admin, wordLists);
  const { wordsFile, fileAction, webhook } = config.moderation;
  const seeded = wordsFile !== undefined && (await moderationAdmin.seedFromFile(wordsFile, fileAction));
  await wordLists.start();
  // Running nodes hear of a new file at once, not at their next recheck.
  if (seeded) await wordLists.changed();
  let moderation: Moderation = words;
  if (webhook) {
    const external = new WebhookModeration({ url: webhook.url, timeoutMs: webhook.timeoutMs, failure: webhook.failure }, log, metrics);
    moderation = webhook.mode === 'replace' ? external : new ChainedModeration([words, external]);
  }
  return { moderation: countVerdicts(moderation, metrics), moderationAdmin, wordLists };
}

/** Starts `server` listening; resolves with the port it got. */
async function listen(server: Server, port: number, host: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  return (server.address() as AddressInfo).port;
}
