/** How long each OAuth record lives (ms). */
export const OAUTH_LIFETIMES = {
  /** The pending request, between the authorize redirect and the user's click on the consent page. */
  request: 10 * 60_000,
  /** An authorization code: exchanged by the client right after the redirect. */
  code: 5 * 60_000,
  access: 60 * 60_000,
  refresh: 30 * 24 * 60 * 60_000,
  /** A grant's `lastUsedAt` is written at most this often by access-token use (refreshes always write it). */
  lastUsedResolution: 5 * 60_000,
} as const;
