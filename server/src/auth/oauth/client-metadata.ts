/**
 * Client ID metadata documents (draft-ietf-oauth-client-id-metadata-document, as the MCP authorization spec
 * uses them): a `client_id` that is an https URL names a JSON document with the client's `redirect_uris` and
 * `client_name`. Fetching a URL a stranger chose is a server-side request forgery risk, so the default fetcher
 * takes https only, resolves the name itself and refuses private, loopback and link-local addresses (checked
 * on the address the socket really connects to, so DNS rebinding cannot slip one in), follows no redirect,
 * reads at most 5 KiB and gives up after 5 s.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request } from 'node:https';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { readBoundedJson } from '../../bounded-json.js';
import { MAX_URI_LENGTH, redirectUriProblem } from './redirect-uri.js';

export const MAX_METADATA_BYTES = 5 * 1024;
export const METADATA_TIMEOUT_MS = 5_000;

/** Fetches the document at an https URL: its parsed JSON, or throws an Error saying why not. */
export type ClientMetadataFetcher = (url: URL) => Promise<unknown>;

export interface ClientMetadata {
  readonly clientId: string;
  readonly clientName: string | null;
  readonly clientUri: string | null;
  readonly redirectUris: readonly string[];
}

/** True when `clientId` is meant as a metadata document URL (https with a path), not a registered id. */
export function isMetadataClientId(clientId: string): boolean {
  return clientId.startsWith('https://');
}

/** Checks the URL itself: https, no credentials or fragment, a path, bounded length. null when fine. */
export function metadataUrlProblem(clientId: string): string | null {
  if (clientId.length > MAX_URI_LENGTH) return 'the client_id URL is too long';
  let url: URL;
  try {
    url = new URL(clientId);
  } catch {
    return 'the client_id is not a URL';
  }
  if (url.protocol !== 'https:') return 'a client_id URL must use https';
  if (url.username || url.password || url.hash)
    return 'a client_id URL must not have credentials or a fragment';
  if (url.pathname === '/' || url.pathname === '') return 'a client_id URL must have a path';
  return null;
}

/** Fetches and checks the document; throws an Error whose message can go in an error page. */
export async function loadClientMetadata(
  clientId: string,
  fetcher: ClientMetadataFetcher,
): Promise<ClientMetadata> {
  const problem = metadataUrlProblem(clientId);
  if (problem) throw new Error(problem);
  const doc = await fetcher(new URL(clientId));
  if (typeof doc !== 'object' || doc === null)
    throw new Error('the client metadata document is not a JSON object');
  const fields = doc as Record<string, unknown>;
  if (fields.client_id !== clientId) throw new Error('the client metadata document names another client_id');
  const uris = fields.redirect_uris;
  if (
    !Array.isArray(uris) ||
    uris.length === 0 ||
    uris.length > 10 ||
    !uris.every((u) => typeof u === 'string')
  )
    throw new Error('the client metadata document needs 1–10 redirect_uris');
  for (const uri of uris) {
    const bad = redirectUriProblem(uri);
    if (bad) throw new Error(`the client metadata document is refused: ${bad}`);
  }
  const text = (value: unknown) => (typeof value === 'string' && value.length <= 200 ? value : null);
  const clientUri = text(fields.client_uri);
  return {
    clientId,
    clientName: text(fields.client_name),
    clientUri: clientUri?.startsWith('https://') ? clientUri : null,
    redirectUris: uris,
  };
}

/** Addresses a metadata fetch may never reach: this machine, private networks, link-local (cloud metadata). */
const PRIVATE = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  PRIVATE.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
  ['64:ff9b::', 96],
  ['2001:db8::', 32],
] as const)
  PRIVATE.addSubnet(net, prefix, 'ipv6');

/** True for addresses a metadata fetch must not connect to (BlockList judges IPv4-mapped IPv6 by the IPv4 inside). */
export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return true; // not an address at all: refuse
  return PRIVATE.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/** A DNS lookup for the socket that fails when the name resolves to a private address. */
export const publicOnlyLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
    if (error) return callback(error, '', 0);
    const refused = addresses.find((entry) => isPrivateAddress(entry.address));
    if (refused || addresses.length === 0) {
      const denied = Object.assign(new Error(`${hostname} resolves to a private address`), {
        code: 'EPRIVATE',
      });
      return callback(denied, '', 0);
    }
    if ((options as { all?: boolean }).all)
      return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
    return callback(null, addresses[0]!.address, addresses[0]!.family);
  });
};

/** The production fetcher: https, public addresses only, no redirects, bounded size and time. */
export const fetchClientMetadataDocument: ClientMetadataFetcher = (url) =>
  new Promise((resolve, reject) => {
    if (url.protocol !== 'https:') return reject(new Error('a client_id URL must use https'));
    // An address literal skips DNS: check it here.
    const literal = url.hostname.replace(/^\[(.*)\]$/, '$1');
    if (isIP(literal) !== 0 && isPrivateAddress(literal))
      return reject(new Error('the client_id URL points at a private address'));
    const req = request(
      url,
      {
        method: 'GET',
        lookup: publicOnlyLookup,
        headers: { accept: 'application/json' },
        timeout: METADATA_TIMEOUT_MS,
      },
      (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          return reject(
            new Error(`the client metadata document answered ${res.statusCode} (redirects are not followed)`),
          );
        }
        readBoundedJson(res, MAX_METADATA_BYTES, 'the client metadata document').then(
          resolve,
          (error: unknown) => {
            req.destroy();
            reject(error instanceof Error ? error : new Error(String(error)));
          },
        );
      },
    );
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', (error: NodeJS.ErrnoException) =>
      reject(
        new Error(
          error.code === 'EPRIVATE'
            ? 'the client_id URL resolves to a private address'
            : `the client metadata document could not be fetched (${error.code ?? error.message})`,
        ),
      ),
    );
    req.end();
  });
