import { isAbsolute, relative } from 'node:path';
import type { RunningEarshot } from '../runtime.js';

export interface BannerOptions {
  /**
   * Whether a person reads the output in a terminal. Only then does the banner show the key: otherwise the
   * output is headed for docker, journald or a CI log, where a key must never land.
   */
  readonly tty: boolean;
  /** Where the generated key is saved, when Earshot generated it. */
  readonly keyFile: string | undefined;
  /** Paths inside it are shown relative to it (".earshot/api-key"); default: the current directory. */
  readonly cwd?: string;
}

/** A path as the user would type it: relative when inside the current directory. */
function shownPath(file: string, cwd: string): string {
  const inside = relative(cwd, file);
  return inside && !inside.startsWith('..') && !isAbsolute(inside) ? inside : file;
}

/** Every other client's config is one page away: the console's Connect view, and the guide in the repo. */
const otherClients = (publicUrl: string, indent = '  '): string =>
  `${indent}Other clients (VS Code, Windsurf, Claude Desktop): ${publicUrl}/#/connect, or docs/clients.md`;

/** What the banner reads of the running server. */
export type BannerSource = Pick<RunningEarshot, 'url' | 'publicUrl' | 'localKey' | 'keyCreated' | 'users'> & {
  readonly engine: { readonly name: string };
};

/** What `earshot serve` prints once it listens: where to listen, and how to connect an agent. */
export function startupBanner(running: BannerSource, options: BannerOptions): string {
  const key = running.localKey;
  const mcpUrl = `${running.publicUrl}/mcp`;
  const keyFile = options.keyFile && shownPath(options.keyFile, options.cwd ?? process.cwd());
  const lines = [
    '',
    `  Earshot is listening on ${running.url}`,
    `  Voice engine: ${running.engine.name === 'elevenlabs' ? 'ElevenLabs' : 'offline (Flite) — set ELEVENLABS_API_KEY for ElevenLabs voices'}`,
    '',
  ];
  if (key && options.tty) {
    lines.push(
      '  1. Open the player and click "Enable audio":',
      `       ${running.publicUrl}/#key=${key}`,
      '',
      `  API key (${keyFile ? `${running.keyCreated ? 'new, ' : ''}saved in ${keyFile}` : 'from EARSHOT_API_KEY'}): ${key}`,
      '',
      '  2. Connect your agent.',
      '     Cursor (~/.cursor/mcp.json):',
      ...JSON.stringify(
        { mcpServers: { earshot: { url: mcpUrl, headers: { Authorization: `Bearer ${key}` } } } },
        null,
        2,
      )
        .split('\n')
        .map((line) => `       ${line}`),
      '     Claude Code:',
      `       claude mcp add --transport http earshot ${mcpUrl} --header "Authorization: Bearer ${key}"`,
      otherClients(running.publicUrl, '     '),
    );
  } else if (key) {
    const where = keyFile
      ? `${running.keyCreated ? 'new, ' : ''}saved in ${keyFile} (mode 0600); show it with: cat ${keyFile}`
      : 'the one in EARSHOT_API_KEY';
    lines.push(
      `  Player page: ${running.publicUrl}/ (paste your API key, then click "Enable audio")`,
      `  MCP endpoint: ${mcpUrl} with "Authorization: Bearer YOUR_KEY"`,
      `  API key: ${where}`,
      '  (The key is not printed because this output is not a terminal: logs must not hold it.)',
      otherClients(running.publicUrl),
    );
  } else {
    lines.push(
      `  Users (keys from EARSHOT_API_KEYS): ${running.users.join(', ')}`,
      `  Player page: ${running.publicUrl}/ (paste your key, or open ${running.publicUrl}/#key=YOUR_KEY)`,
      `  MCP endpoint: ${mcpUrl} with "Authorization: Bearer YOUR_KEY"`,
      otherClients(running.publicUrl),
    );
  }
  lines.push('', '  Press Ctrl+C to stop.', '');
  return lines.join('\n');
}
