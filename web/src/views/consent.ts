import type { OAuthPendingRequest } from '@earshot/protocol';
import { Api, ApiRequestError } from '../api.js';
import type { ConsoleConfig } from '../config.js';
import { h, replace } from '../dom.js';
import { forgetKey, keyHint, saveKey, savedKey } from '../key.js';
import { safeRedirect } from '../route.js';

const SCOPE_TEXT: Record<string, string> = {
  earshot:
    'Everything your key can do: speak to your players, and read and change your voices, history and settings.',
};

/**
 * The OAuth consent page (`#/consent?request=<id>`), where `GET /oauth/authorize` sends the browser. It never
 * takes a key from the URL (route.ts) and never approves by itself: it shows which Earshot user is signed in
 * and which client, sending the code where, asks for, and waits for a click on Approve or Deny.
 */
export function consentPage(
  root: HTMLElement,
  config: ConsoleConfig,
  requestId: string | null,
  setConnection: (text: string, state: string) => void,
): void {
  const title = h('h2', { id: 'consent-title' }, 'Connect an app to Earshot');
  const body = h('div', { className: 'stack' });
  replace(
    root,
    h('main', { className: 'card consent', id: 'consent', 'aria-labelledby': 'consent-title' }, title, body),
  );

  function fail(message: string): void {
    setConnection('Not connected', 'idle');
    replace(body, h('p', { className: 'error', role: 'alert', id: 'consent-error' }, message));
  }

  /** Asks for the user's own key (the consent page's only way to sign in besides the saved key). */
  function keyForm(message = ''): void {
    setConnection('Not signed in', 'idle');
    const input = h('input', {
      id: 'consent-key',
      type: 'password',
      autocomplete: 'off',
      spellcheck: false,
      required: true,
    });
    const form = h(
      'form',
      { id: 'consent-key-form', className: 'stack' },
      h(
        'p',
        {},
        'An app asks to use Earshot as you. Sign in with your Earshot API key to see what it asks for.',
      ),
      h('label', { htmlFor: 'consent-key' }, 'Your Earshot API key'),
      h('div', { className: 'row' }, input, h('button', { type: 'submit' }, 'Sign in')),
      h('p', { className: 'error', role: 'alert' }, message),
    );
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const key = input.value.trim();
      if (key) void signIn(key, true);
    });
    replace(body, form);
    input.focus();
  }

  async function signIn(key: string, typed: boolean): Promise<void> {
    const api = new Api(config.apiBaseUrl, key);
    setConnection('Signing in…', 'connecting');
    let user: string;
    let request: OAuthPendingRequest;
    try {
      [user, request] = await Promise.all([api.whoami(), api.oauthRequest(requestId!)]);
    } catch (error) {
      if (error instanceof ApiRequestError && error.status === 401) {
        if (!typed) forgetKey();
        return keyForm(
          typed ? 'That key was not accepted.' : 'The key saved in this browser was not accepted.',
        );
      }
      if (error instanceof ApiRequestError && error.status === 404) {
        return fail(
          'This authorization request has expired, was already answered, or does not exist. ' +
            'Start connecting again from your app.',
        );
      }
      return fail(`Could not load the request: ${(error as Error).message}`);
    }
    if (typed) saveKey(key);
    setConnection(`Signed in as ${user}`, 'open');
    decide(api, key, user, request);
  }

  function decide(api: Api, key: string, user: string, request: OAuthPendingRequest): void {
    const status = h('p', { className: 'status', role: 'status', 'aria-live': 'polite' });
    const approve = h('button', { type: 'button', className: 'primary', id: 'consent-approve' }, 'Approve');
    const deny = h('button', { type: 'button', id: 'consent-deny' }, 'Deny');
    const other = h(
      'button',
      { type: 'button', className: 'link', id: 'consent-other-key' },
      'Use another key',
    );
    const answer = (decision: 'approve' | 'deny') => async () => {
      approve.disabled = deny.disabled = other.disabled = true;
      status.textContent = decision === 'approve' ? 'Approving…' : 'Denying…';
      try {
        const { redirect } = await api.decideOAuth(request.id, decision);
        const target = safeRedirect(redirect);
        if (!target) throw new Error('the app gave an address that is not allowed');
        status.textContent = `Done. Sending you back to ${request.redirectOrigin}…`;
        location.assign(target.href);
      } catch (error) {
        if (error instanceof ApiRequestError && error.status === 404) {
          return fail(
            'This authorization request expired or was already answered. Start again from your app.',
          );
        }
        status.textContent = `Could not ${decision}: ${(error as Error).message}`;
        approve.disabled = deny.disabled = other.disabled = false;
      }
    };
    approve.addEventListener('click', () => void answer('approve')());
    deny.addEventListener('click', () => void answer('deny')());
    other.addEventListener('click', () => keyForm());

    const expires = new Date(request.expiresAt);
    replace(
      body,
      h(
        'p',
        { className: 'consent-account', id: 'consent-account' },
        'Signed in as ',
        h('strong', { id: 'consent-user' }, user),
        ` (key ${keyHint(key)}). `,
        other,
      ),
      h(
        'p',
        { className: 'consent-client' },
        h('strong', { id: 'consent-client' }, request.clientName),
        ' asks to use Earshot as ',
        h('strong', {}, user),
        '.',
      ),
      h(
        'div',
        { className: 'consent-redirect' },
        h('p', { className: 'label' }, 'Your approval goes to'),
        h('p', { className: 'origin', id: 'consent-redirect' }, request.redirectOrigin),
        h('p', { className: 'hint' }, 'Approve only if this is the app you are connecting, at this address.'),
      ),
      request.clientUri
        ? h(
            'p',
            { className: 'meta' },
            'App website (as the app gives it): ',
            h('span', { id: 'consent-client-uri' }, request.clientUri),
          )
        : null,
      h(
        'p',
        { className: 'meta', id: 'consent-scope' },
        `Access: ${SCOPE_TEXT[request.scope] ?? request.scope}`,
      ),
      h(
        'p',
        { className: 'meta' },
        'You can revoke it any time under Connect → Connected apps. This request expires at ',
        h('time', { dateTime: request.expiresAt }, expires.toLocaleTimeString()),
        '.',
      ),
      h('div', { className: 'row' }, approve, deny),
      status,
    );
  }

  if (!requestId) {
    return fail('This link names no authorization request. Start connecting again from your app.');
  }
  // The saved key may have come from a link (`#key=…` on the console), so whose it is shows before any click.
  const key = savedKey();
  if (key) void signIn(key, false);
  else keyForm();
}
