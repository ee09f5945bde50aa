import { createHash } from 'node:crypto';

/*
 * Behind the AWS proxy, nginx routes every request of a user to one task by hashing a route key (infra/proxy/README.md).
 * Hashing the raw credential sent a user's API key, their OAuth access tokens and the in-chat player's speech tokens
 * to different tasks, so speech asked for with one could miss the players opened with another. So credentials Earshot
 * issues carry the user's route tag in clear: `<prefix><tag>.<secret>`, prefix `esk_` (API keys from
 * `earshot keys create`), `eso_at_` (OAuth access tokens) or `est_` (speech tokens). The proxy (an nginx map for
 * Bearer headers, earshot-route-key for player subprotocols) and the tasks (route-ring.ts) all route on the tag when
 * there is one, and on the whole credential otherwise (keys made before tags, or by hand). The tag is a digest of
 * the user's name: it says which task, not who, and grants nothing.
 */

/** The tag of a credential: what nginx's map, earshot-route-key.py and routeKeyOf all match. */
export const ROUTE_TAG_PATTERN = /^(?:esk|eso_at|est)_([A-Za-z0-9_-]{12})\./;

/** 12 base64url characters (72 bits) of SHA-256 over the user's name. */
export function routeTagOf(user: string): string {
  return createHash('sha256').update(`earshot-route\0${user}`, 'utf8').digest('base64url').slice(0, 12);
}

/** What the proxy hashes for this credential: its route tag, or the whole credential when it has none. */
export function routeKeyOf(credential: string): string {
  return ROUTE_TAG_PATTERN.exec(credential)?.[1] ?? credential;
}
