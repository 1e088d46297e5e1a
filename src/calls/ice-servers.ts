import { createHmac } from 'node:crypto';
import type { CallsConfig } from '../config';
import type { IceServer } from './call.types';

/**
 * The STUN and TURN servers for one user. TURN credentials follow the REST-API scheme most TURN servers accept
 * (coturn's `use-auth-secret`): username `<expiry unix seconds>:<user id>`, credential
 * base64(HMAC-SHA1(secret, username)); the TURN server recomputes it and refuses it after the expiry, so a
 * leaked credential is short-lived and nothing is stored.
 */
export function iceServersFor(config: CallsConfig, userId: string, nowMs = Date.now()): IceServer[] {
  const servers: IceServer[] = [];
  if (config.stunUrls.length) servers.push({ urls: config.stunUrls, username: null, credential: null });
  if (config.turnUrls.length && config.turnSecret) {
    const username = `${Math.floor(nowMs / 1000) + config.turnCredentialTtlSeconds}:${userId}`;
    const credential = createHmac('sha1', config.turnSecret).update(username).digest('base64');
    servers.push({ urls: config.turnUrls, username, credential });
  }
  return servers;
}
