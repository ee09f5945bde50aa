import { keyFromFragment } from './route.js';

const KEY_STORAGE = 'earshot.key';

/**
 * Takes `#key=…` from the URL (then removes it from the address bar and history), else the saved key. On the
 * consent page a key in the URL is removed and never taken (see keyFromFragment).
 */
export function takeKey(): string | null {
  const { key, hash } = keyFromFragment(location.hash);
  // Keep the key out of the address bar, history and screenshots.
  if (hash !== location.hash) history.replaceState(null, '', location.pathname + location.search + hash);
  if (key) {
    localStorage.setItem(KEY_STORAGE, key);
    return key;
  }
  return savedKey();
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
