import './styles.css';
import { Api, ApiRequestError } from './api.js';
import { loadConfig, type ConsoleConfig } from './config.js';
import { ConsoleContext, type View } from './context.js';
import { h, replace } from './dom.js';
import { forgetKey, saveKey, takeKey } from './key.js';
import { playerSocketUrl, type ConnectionState } from './player/connection.js';
import { Player } from './player/player.js';
import { consentRequestId, isConsentRoute } from './route.js';
import { connectView } from './views/connect.js';
import { consentPage } from './views/consent.js';
import { historyView } from './views/history.js';
import { nowPlaying } from './views/now-playing.js';
import { queueView } from './views/queue.js';
import { settingsView } from './views/settings.js';
import { switchKeyPage } from './views/switch-key.js';
import { tryItView } from './views/try-it.js';
import { usageView } from './views/usage.js';
import { voicesView } from './views/voices.js';

const root = document.getElementById('app')!;
const connection = document.getElementById('connection')!;

function setConnection(text: string, state: string): void {
  connection.textContent = text;
  connection.dataset.state = state;
}

/** Asks for a key when there is none (or it was refused). */
function keyForm(config: ConsoleConfig, message = ''): void {
  const input = h('input', {
    id: 'key-input',
    type: 'password',
    autocomplete: 'off',
    spellcheck: false,
    required: true,
  });
  const form = h(
    'form',
    { className: 'card key-form', id: 'key-form' },
    h('label', { htmlFor: 'key-input' }, 'API key'),
    h(
      'p',
      { className: 'hint' },
      'Paste the key Earshot printed when it started (it stays in this browser only).',
    ),
    h('div', { className: 'row' }, input, h('button', { type: 'submit', className: 'primary' }, 'Connect')),
    h('p', { className: 'error', role: 'alert' }, message),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const key = input.value.trim();
    if (!key) return;
    saveKey(key);
    void start(config, key);
  });
  setConnection('Not connected', 'idle');
  replace(root, form);
  input.focus();
}

async function start(config: ConsoleConfig, key: string | null): Promise<void> {
  if (!key) return keyForm(config);
  const api = new Api(config.apiBaseUrl, key);
  // A WebSocket refused with 401 tells the page nothing; ask the REST API first to give a clear message.
  let settings = null;
  try {
    settings = await api.settings();
  } catch (error) {
    if (error instanceof ApiRequestError && error.status === 401) {
      forgetKey();
      return keyForm(config, 'That key was not accepted. Paste the key Earshot printed at start.');
    }
    // Unreachable: the player shows the state and keeps retrying.
  }
  const player = new Player(playerSocketUrl(config.apiBaseUrl), { key });
  const ctx = new ConsoleContext(config, api, player, key);
  if (settings) ctx.setSettings(settings);
  // Connection states in order, with each retry's delay: what the browser tests (and devtools) read.
  const connection: ConnectionState[] = [];
  player.listen({
    onConnection: (state) => connection.push(state),
    onSettings: () => undefined,
    onSpeechesChanged: () => undefined,
    onSpeechStarted: () => undefined,
  });
  (window as unknown as { earshotPlayer: unknown }).earshotPlayer = {
    stats: player.stats,
    player,
    connection,
  };
  shell(ctx);
  player.connect();
}

function shell(ctx: ConsoleContext): void {
  const { player } = ctx;
  const views: View[] = [
    queueView(ctx),
    tryItView(ctx),
    voicesView(ctx),
    historyView(ctx),
    usageView(ctx),
    settingsView(ctx),
    connectView(ctx),
  ];
  const main = h('main', { id: 'view', tabIndex: -1 });
  const links = views.map((view) => h('a', { href: `#/${view.id}`, id: `nav-${view.id}` }, view.title));
  const other = h('button', { type: 'button', className: 'link' }, 'Use another key');
  other.addEventListener('click', () => {
    player.disconnect();
    forgetKey();
    location.hash = '';
    keyForm(ctx.config);
  });
  const nav = h(
    'nav',
    { 'aria-label': 'Console' },
    h(
      'ul',
      {},
      links.map((link) => h('li', {}, link)),
    ),
    other,
  );

  let current: View | null = null;
  function route(): void {
    // The consent page stands alone (no player, no key from the URL): load it afresh.
    if (isConsentRoute(location.hash)) return location.reload();
    const id = /^#\/([\w-]+)/.exec(location.hash)?.[1] ?? 'player';
    const view = views.find((candidate) => candidate.id === id) ?? views[0]!;
    current = view;
    links.forEach((link, index) => {
      if (views[index] === view) link.setAttribute('aria-current', 'page');
      else link.removeAttribute('aria-current');
    });
    replace(main, view.element);
    document.body.dataset.view = view.id;
    view.show?.();
  }
  window.addEventListener('hashchange', route);

  let restarting = false;
  player.listen({
    onConnection: (state) => {
      if (state.kind === 'open') {
        restarting = false;
        ctx.user = state.user;
        ctx.engine = state.engine;
        setConnection(`Connected as ${state.user} · ${state.engine} voice`, 'open');
        // Catch up on settings changed while disconnected, and reload a view that failed meanwhile.
        ctx.api.settings().then(
          (settings) => ctx.setSettings(settings),
          () => undefined,
        );
        current?.recover?.();
      } else if (state.kind === 'connecting') {
        setConnection(restarting ? 'Reconnecting… (server restarting)' : 'Connecting…', 'connecting');
      } else if (state.kind === 'closed') {
        restarting = state.restarting;
        const seconds = Math.round(state.retryInMs / 100) / 10;
        setConnection(
          `Disconnected${restarting ? ' (server restarting)' : ''} — retrying in ${seconds} s`,
          'error',
        );
      } else setConnection('Not connected', 'idle');
    },
    onSettings: (settings) => ctx.setSettings(settings),
    onSpeechesChanged: () => undefined,
    onSpeechStarted: () => undefined,
  });

  document.addEventListener('keydown', (event) => {
    const target = event.target as HTMLElement;
    const typing = target.closest('input, textarea, select, button, a, [contenteditable], summary');
    if (event.key === 'Escape') {
      player.stop();
    } else if (event.key === ' ' && !typing && !event.repeat) {
      event.preventDefault();
      // Like the Pause button: only with speech to pause, or to resume.
      if (player.paused || player.current) void player.togglePause();
    }
  });

  replace(
    root,
    h('div', { className: 'layout' }, nav, h('div', { className: 'content' }, nowPlaying(ctx), main)),
  );
  route();
}

void loadConfig().then((config) => {
  // takeKey first: on the consent route it drops a key the link carried without taking it.
  const { key, offered } = takeKey();
  if (isConsentRoute(location.hash)) {
    consentPage(root, config, consentRequestId(location.hash), setConnection);
    // Leaving it (Back, an edited address) starts the console afresh.
    window.addEventListener('hashchange', () => location.reload());
    return;
  }
  if (key && offered) {
    // Another account's key in the link: nothing switches until the user says so.
    return switchKeyPage(root, config, key, offered, setConnection, (chosen) => {
      saveKey(chosen);
      void start(config, chosen);
    });
  }
  return start(config, key);
});
