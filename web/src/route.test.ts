import { describe, expect, it } from 'vitest';
import { consentRequestId, isConsentRoute, keyFromFragment, linkedKeyChoice, safeRedirect } from './route.js';

describe('a key in the URL fragment', () => {
  it('signs the console in and leaves the address bar clean', () => {
    expect(keyFromFragment('#key=esk_abc')).toEqual({ key: 'esk_abc', hash: '' });
    expect(keyFromFragment('#/history&key=esk_a%2Fb')).toEqual({ key: 'esk_a/b', hash: '' });
  });

  it('is not there: the fragment stays as it is', () => {
    expect(keyFromFragment('#/voices')).toEqual({ key: null, hash: '#/voices' });
    expect(keyFromFragment('')).toEqual({ key: null, hash: '' });
  });

  it('is never taken on the consent route, and dropped from the address bar (login forgery)', () => {
    for (const hash of [
      '#/consent?request=abc&key=esk_attacker',
      '#/consent?key=esk_attacker&request=abc',
      '#/consent?request=abc#key=esk_attacker',
      '#/consent&key=esk_attacker',
      '#/consent/key=esk_attacker',
    ]) {
      const taken = keyFromFragment(hash);
      expect(taken.key, hash).toBeNull();
      expect(taken.hash, hash).not.toContain('esk_attacker');
      expect(isConsentRoute(taken.hash), hash).toBe(true);
    }
    expect(keyFromFragment('#/consent?request=abc&key=esk_attacker').hash).toBe('#/consent?request=abc');
  });

  it('a malformed escape signs nothing in', () => {
    expect(keyFromFragment('#key=%E0%A4%A').key).toBeNull();
  });
});

describe('a key in a link, against the key this browser keeps', () => {
  it('is taken when the browser keeps none, or the same one', () => {
    expect(linkedKeyChoice('esk_a', null)).toBe('take');
    expect(linkedKeyChoice('esk_a', 'esk_a')).toBe('take');
  });

  it('is asked about when the browser keeps another (login forgery)', () => {
    expect(linkedKeyChoice('esk_mallory', 'esk_alice')).toBe('ask');
  });

  it('is nothing when there is none', () => {
    expect(linkedKeyChoice(null, 'esk_alice')).toBe('none');
    expect(linkedKeyChoice(null, null)).toBe('none');
  });
});

describe('the consent route', () => {
  it('names its request', () => {
    expect(isConsentRoute('#/consent?request=r1')).toBe(true);
    expect(consentRequestId('#/consent?request=r1_-X')).toBe('r1_-X');
  });

  it('is only #/consent itself', () => {
    for (const hash of ['#/consents?request=r1', '#/connect', '#consent?request=r1', '#key=x/consent']) {
      expect(isConsentRoute(hash), hash).toBe(false);
      expect(consentRequestId(hash), hash).toBeNull();
    }
  });

  it('takes no request id that is missing or not an opaque token', () => {
    for (const hash of [
      '#/consent',
      '#/consent?',
      '#/consent?request=',
      '#/consent?request=../grants',
      `#/consent?request=${'a'.repeat(129)}`,
    ]) {
      expect(consentRequestId(hash), hash).toBeNull();
    }
  });
});

describe('the redirect a consent answer names', () => {
  it('is followed to the client: https, loopback http, or an app’s own scheme', () => {
    for (const redirect of [
      'https://claude.ai/api/mcp/auth_callback?code=c&state=s',
      'http://127.0.0.1:33418/callback?code=c',
      'cursor://anysphere.cursor-retrieval/oauth/callback?code=c',
    ]) {
      expect(safeRedirect(redirect)?.href, redirect).toBe(new URL(redirect).href);
    }
  });

  it('is refused when it would run or show something in the console’s place', () => {
    for (const redirect of [
      'javascript:alert(1)',
      'JavaScript:alert(1)',
      'data:text/html,<script>alert(1)</script>',
      'blob:https://earshot.example/1',
      'vbscript:x',
      'file:///etc/passwd',
      'about:blank',
      'not a url',
      '/relative/path',
    ]) {
      expect(safeRedirect(redirect), redirect).toBeNull();
    }
  });
});
