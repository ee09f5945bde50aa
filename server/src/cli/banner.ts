import type { RunningEarshot } from '../runtime.js';

export interface BannerOptions {
  /**
   * Whether a person reads the output in a terminal. Only then does the banner show the key: otherwise the
   * output is headed for docker, journald or a CI log, where a key must never land.
   */
  readonly tty: boolean;
  /** Where the generated key is saved, when Earshot generated it. */
  readonly keyFile: string | undefined;
}

/** What the banner reads of the running server. */
export type BannerSource = Pick<RunningEarshot, 'url' | 'publicUrl' | 'localKey' | 'keyCreated' | 'users'> & {
  readonly engine: { readonly name: string };
};

/** What `earshot serve` prints once it listens: where to listen, and how to connect an agent. */
export function startupBanner(running: BannerSource, options: BannerOptions): string {
  const key = running.localKey;
  const mcpUrl = `${running.publicUrl}/mcp`;
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
      `  API key (${running.keyCreated ? 'new, saved in the data directory' : 'saved'}): ${key}`,
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
    );
  } else if (key) {
    const where = options.keyFile
      ? `${running.keyCreated ? 'new, ' : ''}saved in ${options.keyFile} (mode 0600); show it with: cat ${options.keyFile}`
      : 'the one in EARSHOT_API_KEY';
    lines.push(
      `  Player page: ${running.publicUrl}/ (paste your API key, then click "Enable audio")`,
      `  MCP endpoint: ${mcpUrl} with "Authorization: Bearer YOUR_KEY"`,
      `  API key: ${where}`,
      '  (The key is not printed because this output is not a terminal: logs must not hold it.)',
    );
  } else {
    lines.push(
      `  Users (keys from EARSHOT_API_KEYS): ${running.users.join(', ')}`,
      `  Player page: ${running.publicUrl}/ (paste your key, or open ${running.publicUrl}/#key=YOUR_KEY)`,
      `  MCP endpoint: ${mcpUrl} with "Authorization: Bearer YOUR_KEY"`,
    );
  }
  lines.push('', '  Press Ctrl+C to stop.', '');
  return lines.join('\n');
}
