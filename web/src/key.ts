const KEY_STORAGE = 'earshot.key';

/** Takes `#key=…` from the URL (then removes it from the address bar and history), else the saved key. */
export function takeKey(): string | null {
  const match = /(?:^|[#&])key=([^&]+)/.exec(location.hash);
  if (match?.[1]) {
    const fromUrl = decodeURIComponent(match[1]);
    localStorage.setItem(KEY_STORAGE, fromUrl);
    // Keep the key out of the address bar, history and screenshots.
    history.replaceState(null, '', location.pathname + location.search);
    return fromUrl;
  }
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
