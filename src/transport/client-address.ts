import type { IncomingMessage } from 'node:http';
import { isIPv6 } from 'node:net';

/**
 * The address a request came from, as per-address limits count it. Without trusted proxies it is the socket's
 * peer; with `trustProxyHops` proxies in front, the X-Forwarded-For entry that many places from the right (each
 * proxy appends the peer it saw; entries further left are whatever the client wrote, so they are never used).
 */
export function clientAddress(req: IncomingMessage, trustProxyHops: number): string {
  const peer = req.socket.remoteAddress ?? 'unknown';
  if (trustProxyHops === 0) return addressKey(peer);
  const header = req.headers['x-forwarded-for'];
  const forwarded = (Array.isArray(header) ? header.join(',') : (header ?? ''))
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  const chain = [...forwarded, peer];
  return addressKey(chain[Math.max(0, chain.length - 1 - trustProxyHops)]!);
}

/**
 * IPv4-mapped IPv6 addresses count as their IPv4 address, and other IPv6 addresses by their /64 prefix: one
 * subscriber usually holds a whole /64, and would otherwise have 2^64 fresh addresses to guess from.
 */
export function addressKey(address: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (!isIPv6(address)) return address.slice(0, 64);
  const [head = '', tail] = address.split('%')[0]!.split('::');
  const groups = (part: string): string[] => (part ? part.split(':') : []);
  const left = groups(head);
  const right = tail === undefined ? [] : groups(tail);
  // A dotted IPv4 tail takes the room of two groups.
  const rightWidth = right.reduce((n, group) => n + (group.includes('.') ? 2 : 1), 0);
  const all = [...left, ...Array<string>(8 - left.length - rightWidth).fill('0'), ...right];
  return `${all.slice(0, 4).map((group) => parseInt(group, 16).toString(16)).join(':')}::/64`;
}
