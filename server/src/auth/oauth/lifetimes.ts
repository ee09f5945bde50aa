/** How long each OAuth record lives (ms). */
export const OAUTH_LIFETIMES = {
  /** The pending request, between the authorize redirect and the user's click on the consent page. */
  request: 10 * 60_000,
  /** An authorization code: exchanged by the client right after the redirect. */
  code: 5 * 60_000,
  access: 60 * 60_000,
  refresh: 30 * 24 * 60 * 60_000,
  /**
   * A registered client no token has yet been issued to: long enough to finish signing in, short for the
   * registrations nobody completes (anyone may register; a flood goes within a day).
   */
  unusedClient: 24 * 60 * 60_000,
  /**
   * A registered client is kept this long after a token was last issued to it (a sign-in or a refresh): longer
   * than a refresh token lives, so an app whose grant lapsed unused can still sign in again with its client id.
   */
  client: 60 * 24 * 60 * 60_000,
  /** A grant's `lastUsedAt` is written at most this often by access-token use (refreshes always write it). */
  lastUsedResolution: 5 * 60_000,
} as const;
