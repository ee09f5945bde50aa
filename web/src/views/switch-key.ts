import { Api, ApiRequestError } from '../api.js';
import type { ConsoleConfig } from '../config.js';
import { h, replace } from '../dom.js';
import { keyHint } from '../key.js';

/** Whose a key is: the user's name, or why that is not known. */
type Owner = { user: string } | { refused: true } | { unknown: string };

async function ownerOf(config: ConsoleConfig, key: string): Promise<Owner> {
  try {
    return { user: await new Api(config.apiBaseUrl, key).whoami() };
  } catch (error) {
    if (error instanceof ApiRequestError && error.status === 401) return { refused: true };
    return { unknown: (error as Error).message };
  }
}

function describe(owner: Owner, key: string): string {
  if ('user' in owner) return owner.user;
  return `the key ${keyHint(key)}`;
}

/**
 * Asked when a link carries a key other than the one this browser keeps (see linkedKeyChoice): whose each key
 * is, and a choice. Nothing is switched until the user clicks; `choose` gets the key to go on with (the caller
 * saves it).
 */
export function switchKeyPage(
  root: HTMLElement,
  config: ConsoleConfig,
  saved: string,
  offered: string,
  setConnection: (text: string, state: string) => void,
  choose: (key: string) => void,
): void {
  const title = h('h2', { id: 'switch-title' }, 'Switch Earshot account?');
  const body = h('div', { className: 'stack' }, h('p', { role: 'status' }, 'Checking the link’s key…'));
  replace(
    root,
    h(
      'main',
      { className: 'card switch-key', id: 'switch-key', 'aria-labelledby': 'switch-title' },
      title,
      body,
    ),
  );
  setConnection('Not connected', 'idle');

  void Promise.all([ownerOf(config, saved), ownerOf(config, offered)]).then(([current, linked]) => {
    const keep = h(
      'button',
      { type: 'button', className: 'refused' in current ? '' : 'primary', id: 'switch-keep' },
      'user' in current ? `Stay signed in as ${current.user}` : 'Keep the saved key',
    );
    keep.addEventListener('click', () => choose(saved));
    if ('refused' in linked) {
      // Nothing to switch to: say so, and go on as before.
      replace(
        body,
        h(
          'p',
          { className: 'error', role: 'alert', id: 'switch-refused' },
          'The key in that link was not accepted.',
        ),
        h('div', { className: 'row' }, keep),
      );
      keep.focus();
      return;
    }
    const change = h(
      'button',
      // With the saved key refused, switching is the likely wish (a new key after a reset): it leads then.
      { type: 'button', id: 'switch-change', className: 'refused' in current ? 'primary' : '' },
      'user' in linked ? `Switch to ${linked.user}` : 'Switch to the link’s key',
    );
    change.addEventListener('click', () => choose(offered));
    const unknown = [linked, current].find((owner): owner is { unknown: string } => 'unknown' in owner);
    replace(
      body,
      h(
        'p',
        { id: 'switch-question' },
        'The link you opened signs this browser in as ',
        h('strong', { id: 'switch-offered' }, describe(linked, offered)),
        '. It is signed in as ',
        h('strong', { id: 'switch-current' }, describe(current, saved)),
        'refused' in current ? ' (that key is no longer accepted)' : '',
        '.',
      ),
      h(
        'p',
        { className: 'hint' },
        'Switch only if that link is your own: this browser would then play that account’s speech, and apps you ' +
          'approve here would act as that account.',
      ),
      unknown
        ? h('p', { className: 'hint' }, `Earshot could not say whose a key is: ${unknown.unknown}`)
        : null,
      h('div', { className: 'row' }, keep, change),
    );
    ('refused' in current ? change : keep).focus();
  });
}
