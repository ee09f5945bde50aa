import type { OAuthGrant } from '@earshot/protocol';
import type { Api } from '../api.js';
import { h, replace, statusLine } from '../dom.js';

function when(iso: string | null): HTMLElement | string {
  return iso ? h('time', { dateTime: iso }, new Date(iso).toLocaleString()) : 'never';
}

/**
 * The apps the user connected with OAuth (Claude, ChatGPT, any client that signed in through the consent page),
 * each with Revoke. Revoking asks once more in place (no modal dialog), then ends the app's access at once.
 */
export function connectedApps(api: Api): { element: HTMLElement; load(): Promise<void>; failed(): boolean } {
  const list = h('ul', { className: 'list', id: 'grants-list', 'aria-label': 'Connected apps' });
  const empty = h(
    'p',
    { className: 'meta', id: 'grants-empty', hidden: true },
    'No apps connected. When an app signs in to Earshot with OAuth, it shows here.',
  );
  const status = statusLine();
  let loadFailed = false;

  function row(grant: OAuthGrant): HTMLElement {
    const actions = h('div', { className: 'row' });
    const revoke = h(
      'button',
      { type: 'button', className: 'danger', 'aria-label': `Revoke ${grant.clientName}` },
      'Revoke',
    );
    function ask(): void {
      const yes = h(
        'button',
        { type: 'button', className: 'danger', 'aria-label': `Yes, revoke ${grant.clientName}` },
        'Yes, revoke',
      );
      const cancel = h('button', { type: 'button' }, 'Cancel');
      cancel.addEventListener('click', () => {
        replace(actions, revoke);
        revoke.focus();
      });
      yes.addEventListener('click', () => {
        yes.disabled = cancel.disabled = true;
        api.revokeOAuthGrant(grant.id).then(
          () => {
            status.textContent = `${grant.clientName} can no longer use Earshot.`;
            void load();
          },
          (error: Error) => {
            status.textContent = `Could not revoke: ${error.message}`;
            yes.disabled = cancel.disabled = false;
          },
        );
      });
      replace(
        actions,
        h('span', { className: 'confirm' }, `Revoke ${grant.clientName}? It loses access at once.`),
        yes,
        cancel,
      );
      cancel.focus();
    }
    revoke.addEventListener('click', ask);
    actions.append(revoke);
    return h(
      'li',
      { className: 'item grant', 'data-grant': grant.id },
      h('p', { className: 'item-text' }, h('strong', {}, grant.clientName)),
      h(
        'p',
        { className: 'meta' },
        'Connected ',
        when(grant.createdAt),
        ' · last used ',
        when(grant.lastUsedAt),
        ' · signed in until ',
        when(grant.expiresAt),
      ),
      actions,
    );
  }

  async function load(): Promise<void> {
    try {
      const grants = await api.oauthGrants();
      replace(list, ...grants.map(row));
      empty.hidden = grants.length > 0;
      loadFailed = false;
    } catch (error) {
      loadFailed = true;
      status.textContent = `Could not load connected apps: ${(error as Error).message}`;
    }
  }

  const element = h(
    'section',
    { 'aria-labelledby': 'grants-title', className: 'stack grants' },
    h('h3', { id: 'grants-title' }, 'Connected apps'),
    empty,
    list,
    status,
  );
  return { element, load, failed: () => loadFailed };
}
