/**
 * The console's decisions about URLs, kept free of the DOM so they are unit-tested: which view a fragment names,
 * whether a `key=` in it may sign this browser in, and whether a consent answer's redirect may be followed.
 */

/** The consent page's route: `#/consent?request=<id>`. */
const CONSENT_ROUTE = /^#\/consent(?:[?&/]|$)/;
/** Request ids are opaque, URL-safe and short; anything else is not one (and is never sent to the API). */
const REQUEST_ID = /^[\w-]{1,128}$/;
const KEY_PARAM = /(?:^|[#&?])key=([^&]*)/;

/** Whether the fragment is the OAuth consent page. */
export function isConsentRoute(hash: string): boolean {
  return CONSENT_ROUTE.test(hash);
}

/** The pending request id of a consent fragment; null when it names none (or not a well-formed one). */
export function consentRequestId(hash: string): string | null {
  if (!isConsentRoute(hash)) return null;
  const query = hash.slice(hash.indexOf('?') + 1);
  if (!hash.includes('?')) return null;
  const id = new URLSearchParams(query).get('request');
  return id && REQUEST_ID.test(id) ? id : null;
}

export interface FragmentKey {
  /** A key the fragment carries that may sign this browser in; null when none may. */
  readonly key: string | null;
  /** The fragment to leave in the address bar: without any key, whether it was taken or refused. */
  readonly hash: string;
}

/**
 * The key a fragment carries (`#key=…`, as `earshot serve` prints it), and the fragment without it.
 *
 * Never on the consent route: a consent link is made by whoever starts the authorization, so a key in it is the
 * link maker's. Taking it would sign the victim in as the attacker, whose account the victim's agent would then
 * be connected to (login forgery). There the key is dropped from the address bar and the page asks for the
 * user's own.
 */
export function keyFromFragment(hash: string): FragmentKey {
  if (isConsentRoute(hash)) {
    // Rebuilt from the request id alone: whatever else the link carried is dropped, the key with it.
    const id = consentRequestId(hash);
    return { key: null, hash: id ? `#/consent?request=${id}` : '#/consent' };
  }
  const match = KEY_PARAM.exec(hash);
  if (!match) return { key: null, hash };
  let key: string | null;
  try {
    key = decodeURIComponent(match[1] ?? '') || null;
  } catch {
    key = null;
  }
  // Outside the consent route the fragment was only ever the key: the console opens on its default view.
  return { key, hash: '' };
}

/**
 * What to do with a key a link carries, given the key this browser keeps: take it when the browser keeps none
 * (the first open, from the URL `earshot serve` prints) or the same one; ask first when it keeps another. Taken
 * silently, a link carrying someone else's key would switch the browser to their account (login forgery): its
 * player would play their speech, its consent page approve apps as them, and whatever the user typed into its
 * settings would go to them.
 */
export function linkedKeyChoice(linked: string | null, saved: string | null): 'none' | 'take' | 'ask' {
  if (!linked) return 'none';
  return saved && saved !== linked ? 'ask' : 'take';
}

/** Schemes a redirect may never have: they would run or show content in the console's place. */
const UNSAFE_SCHEMES = new Set(['javascript:', 'data:', 'blob:', 'vbscript:', 'file:', 'about:']);

/**
 * The redirect a consent answer names, if the page may go there: the client's redirect URI (https, loopback
 * http, or an app's own scheme such as `cursor:`), never a URL that would run script in the console's origin.
 * The server checked the URI at registration; this is the page's own check, in case it ever did not.
 */
export function safeRedirect(redirect: string): URL | null {
  let target: URL;
  try {
    target = new URL(redirect);
  } catch {
    return null;
  }
  return UNSAFE_SCHEMES.has(target.protocol) ? null : target;
}
