import { h, statusLine } from '../dom.js';
import type { ConsoleContext, View } from '../context.js';
import { apiOrigin } from '../config.js';
import { connectedApps } from './connected-apps.js';

interface Client {
  readonly id: string;
  readonly name: string;
  readonly where: string;
  config(url: string, key: string): string;
}

const json = (value: unknown): string => JSON.stringify(value, null, 2);

/**
 * Each agent's own config format, with this server's MCP URL and the user's key: the same snippets as
 * docs/clients.md (a browser test compares them).
 */
export const CLIENTS: readonly Client[] = [
  {
    id: 'cursor',
    name: 'Cursor',
    where: '~/.cursor/mcp.json',
    config: (url, key) =>
      json({ mcpServers: { earshot: { url: `${url}/mcp`, headers: { Authorization: `Bearer ${key}` } } } }),
  },
  {
    id: 'claude-code',
    name: 'Claude Code',
    where: 'a terminal',
    config: (url, key) =>
      `claude mcp add --transport http earshot ${url}/mcp --header "Authorization: Bearer ${key}"`,
  },
  {
    id: 'vscode',
    name: 'VS Code',
    where: '.vscode/mcp.json; VS Code asks for the key once',
    // No key in it: the input prompt keeps it out of a file that often lands in the repository.
    config: (url) =>
      json({
        inputs: [{ type: 'promptString', id: 'earshot-key', description: 'Earshot API key', password: true }],
        servers: {
          earshot: {
            type: 'http',
            url: `${url}/mcp`,
            headers: { Authorization: 'Bearer ${input:earshot-key}' },
          },
        },
      }),
  },
  {
    id: 'windsurf',
    name: 'Windsurf',
    where: '~/.codeium/windsurf/mcp_config.json',
    config: (url, key) =>
      json({
        mcpServers: { earshot: { serverUrl: `${url}/mcp`, headers: { Authorization: `Bearer ${key}` } } },
      }),
  },
  {
    id: 'claude-desktop',
    name: 'Claude Desktop',
    where: 'claude_desktop_config.json (Settings → Developer → Edit config)',
    config: (url, key) =>
      json({
        mcpServers: {
          earshot: {
            command: 'npx',
            args: ['-y', 'earshot', 'mcp'],
            env: { EARSHOT_URL: url, EARSHOT_API_KEY: key },
          },
        },
      }),
  },
];

const MASK = '••••••••••••';

/** Copy-ready agent configuration; the key stays masked on screen until revealed (copying uses the real key). */
export function connectView(ctx: ConsoleContext): View {
  const url = apiOrigin(ctx.config);
  let revealed = false;
  const status = statusLine();
  const reveal = h('button', { type: 'button', 'aria-pressed': 'false' }, 'Reveal key');
  const blocks = CLIENTS.map((client) => {
    const code = h('code', { id: `connect-${client.id}` });
    const copy = h('button', { type: 'button', 'aria-label': `Copy ${client.name} config` }, 'Copy');
    copy.addEventListener('click', () => {
      const text = client.config(url, ctx.key);
      navigator.clipboard.writeText(text).then(
        () => (status.textContent = `${client.name} config copied, with your key.`),
        () =>
          (status.textContent =
            'Could not copy: select the text and copy it instead (reveal the key first).'),
      );
    });
    return {
      client,
      code,
      element: h(
        'div',
        { className: 'card' },
        h('h3', {}, client.name),
        h('p', { className: 'meta' }, `Paste into ${client.where}.`),
        h('pre', { tabIndex: 0, 'aria-label': `${client.name} config` }, code),
        h('div', { className: 'row' }, copy),
      ),
    };
  });

  function render(): void {
    for (const { client, code } of blocks) code.textContent = client.config(url, revealed ? ctx.key : MASK);
    reveal.textContent = revealed ? 'Hide key' : 'Reveal key';
    reveal.setAttribute('aria-pressed', String(revealed));
  }
  reveal.addEventListener('click', () => {
    revealed = !revealed;
    render();
  });
  render();
  const apps = connectedApps(ctx.api);

  const element = h(
    'section',
    { 'aria-labelledby': 'connect-title' },
    h('h2', { id: 'connect-title' }, 'Connect your agent'),
    h(
      'p',
      { className: 'hint' },
      `Your agent talks to ${url}/mcp with your key. Pick your client, copy, paste, restart it, then ask it to say something.`,
    ),
    h(
      'div',
      { className: 'card hosted', id: 'connect-hosted' },
      h('h3', {}, 'Hosted clients (Claude, ChatGPT connectors)'),
      h(
        'p',
        {},
        'Add a custom connector with the URL ',
        h('code', { id: 'connect-mcp-url' }, `${url}/mcp`),
        '. No key to paste: the connector signs in by itself (OAuth) and sends you to an Earshot page to ' +
          'approve it with your key. Their servers call this URL, so it must be reachable from the internet ' +
          'over HTTPS (a deployment is; 127.0.0.1 is not).',
      ),
    ),
    h('div', { className: 'row' }, reveal),
    status,
    h(
      'div',
      { className: 'cards' },
      blocks.map((block) => block.element),
    ),
    apps.element,
  );
  return {
    id: 'connect',
    title: 'Connect',
    element,
    show: () => void apps.load(),
    recover: () => apps.failed() && void apps.load(),
  };
}
