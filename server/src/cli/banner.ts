import type { RunningEarshot } from '../runtime.js';

/** What `earshot serve` prints once it listens: where to listen, and how to connect an agent. */
export function startupBanner(running: RunningEarshot): string {
  const key = running.localKey;
  const mcpUrl = `${running.publicUrl}/mcp`;
  const lines = [
    '',
    `  Earshot is listening on ${running.url}`,
    `  Voice engine: ${running.engine.name === 'elevenlabs' ? 'ElevenLabs' : 'offline (Flite) — set ELEVENLABS_API_KEY for ElevenLabs voices'}`,
    '',
  ];
  if (key) {
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
