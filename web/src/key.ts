import { keyFromFragment, linkedKeyChoice } from './route.js';

const KEY_STORAGE = 'earshot.key';

export interface KeyChoice {
  /** The key to sign in with now (null: none yet). */
  readonly key: string | null;
  /** A key the link carried that is not this browser's: used only if the user says so (see linkedKeyChoice). */
  readonly offered: string | null;
}

/**
 * Takes `#key=…` from the URL (then removes it from the address bar and history) when this browser keeps no
 * other key; a different one is offered, not taken. On the consent page a key in the URL is removed and never
 * taken (see keyFromFragment).
 */
export function takeKey(): KeyChoice {
  const { key: linked, hash } = keyFromFragment(location.hash);
  // Keep the key out of the address bar, history and screenshots.
  if (hash !== location.hash) history.replaceState(null, '', location.pathname + location.search + hash);
  const saved = savedKey();
  switch (linkedKeyChoice(linked, saved)) {
    case 'take':
      saveKey(linked!);
      return { key: linked, offered: null };
    case 'ask':
      return { key: saved, offered: linked };
    case 'none':
      return { key: saved, offered: null };
  }
}

/** The key this browser keeps, without looking at the URL. */
export function savedKey(): string | null {
  return localStorage.getItem(KEY_STORAGE);
}

export function saveKey(key: string): void {
  localStorage.setItem(KEY_STORAGE, key);
}

export function forgetKey(): void {
  localStorage.removeItem(KEY_STORAGE);
}

export function base64url(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** The last characters of a key: enough for its owner to recognise it, too few to use. */
export function keyHint(key: string): string {
  return `…${key.slice(-4)}`;
}
