import { describe, expect, it } from 'vitest';
import { redirectOrigin, redirectUriMatches, redirectUriProblem, withQuery } from './redirect-uri.js';

describe('redirect URIs', () => {
  it.each([
    'https://claude.ai/api/mcp/auth_callback',
    'http://127.0.0.1:33418/callback',
    'http://[::1]:8080/cb',
    'http://localhost:6274/oauth/callback',
    'cursor://anysphere.cursor-retrieval/oauth/user-earshot/callback',
    'vscode://vscode.github-authentication/did-authenticate',
  ])('accepts %s', (uri) => expect(redirectUriProblem(uri)).toBeNull());

  it.each([
    ['http://claude.ai/cb', /loopback/],
    ['http://127.0.0.1.attacker.example/cb', /loopback/],
    ['http://10.0.0.1/cb', /loopback/],
    ['javascript:alert(1)', /javascript/],
    ['JavaScript:alert(1)', /javascript/],
    ['data:text/html,x', /data/],
    ['file:///etc/passwd', /file/],
    ['https://claude.ai/cb#frag', /fragment/],
    ['not a uri', /absolute/],
  ])('refuses %s', (uri, why) => expect(redirectUriProblem(uri)).toMatch(why));

  it('matches exactly, except the port of a loopback http URI', () => {
    const registered = ['http://127.0.0.1:33418/callback', 'https://claude.ai/cb'];
    expect(redirectUriMatches('https://claude.ai/cb', registered)).toBe(true);
    expect(redirectUriMatches('http://127.0.0.1:51000/callback', registered)).toBe(true);
    expect(redirectUriMatches('http://127.0.0.1:51000/other', registered)).toBe(false);
    expect(redirectUriMatches('https://claude.ai:444/cb', registered)).toBe(false);
    expect(redirectUriMatches('https://claude.ai/cb/', registered)).toBe(false);
    expect(redirectUriMatches('http://localhost:33418/callback', registered)).toBe(false);
  });

  it('shows the origin a code goes to and adds parameters keeping the query', () => {
    expect(redirectOrigin('https://claude.ai/api/cb?x=1')).toBe('https://claude.ai');
    expect(redirectOrigin('cursor://anysphere.cursor-retrieval/cb')).toBe(
      'cursor://anysphere.cursor-retrieval',
    );
    expect(withQuery('https://a.example/cb?x=1', { code: 'c', state: undefined })).toBe(
      'https://a.example/cb?x=1&code=c',
    );
  });
});
