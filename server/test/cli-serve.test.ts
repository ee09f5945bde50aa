import { mkdtemp, rm, stat, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startCli, startCliInTerminal } from './support/cli.js';
import { connectPlayer } from './support/player.js';

describe('earshot serve as a real process', { timeout: 120_000 }, () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'earshot-cli-'));
  });
  afterAll(() => rm(dataDir, { recursive: true, force: true }));

  it('generates a key on first run, saves it privately, says where it is (output not a terminal), and reuses it', async () => {
    const first = await startCli({ EARSHOT_DATA_DIR: dataDir });
    const keyFile = join(dataDir, 'api-key');
    const key = (await readFile(keyFile, 'utf8')).trim();
    expect(key).toMatch(/^esk_[A-Za-z0-9_-]{32}$/);
    expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
    const banner = first.output();
    expect(banner).toMatch(/Voice engine: offline/);
    expect(banner).toContain(`Player page: ${first.url}/ `);
    expect(banner).toContain(`MCP endpoint: ${first.url}/mcp with "Authorization: Bearer YOUR_KEY"`);
    expect(banner).toContain(`API key: new, saved in ${keyFile} (mode 0600); show it with: cat ${keyFile}`);
    expect(banner).not.toContain(key);
    first.child.kill('SIGINT');
    expect(await first.exited).toBe(0);

    const second = await startCli({ EARSHOT_DATA_DIR: dataDir });
    expect(second.output()).toContain(`API key: saved in ${keyFile}`);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    // The key it reuses is the one saved on the first run.
    expect((await readFile(keyFile, 'utf8')).trim()).toBe(key);
  });

  it('in a terminal, prints the page URL with the key and ready-to-paste agent config, and stops on Ctrl+C', async () => {
    const cli = await startCliInTerminal({ EARSHOT_DATA_DIR: dataDir });
    const key = (await readFile(join(dataDir, 'api-key'), 'utf8')).trim();
    const banner = cli.output();
    expect(banner).toContain(`${cli.url}/#key=${key}`);
    expect(banner).toContain(`API key (saved in ${join(dataDir, 'api-key')}): ${key}`);
    expect(banner).toContain(`Other clients (VS Code, Windsurf, Claude Desktop): ${cli.url}/#/connect`);
    expect(banner).toContain(`"url": "${cli.url}/mcp"`);
    expect(banner).toContain(`"Authorization": "Bearer ${key}"`);
    expect(banner).toContain(
      `claude mcp add --transport http earshot ${cli.url}/mcp --header "Authorization: Bearer ${key}"`,
    );
    expect(await cli.stop()).toBe(0);
  });

  it('on SIGTERM finishes the speech in progress, closes players with 1001 and exits 0', async () => {
    const key = 'test-key-for-shutdown-0123456789';
    const cli = await startCli({ EARSHOT_DATA_DIR: dataDir, EARSHOT_API_KEY: key });
    const player = await connectPlayer(cli.url, key);
    await player.waitFor('hello');
    const text = Array.from(
      { length: 12 },
      (_, i) => `Sentence ${i + 1} is still being generated when the stop signal comes.`,
    ).join(' ');
    const speaking = fetch(`${cli.url}/api/v1/speak`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ text }),
    });
    const start = await player.waitFor('speech.start');
    cli.child.kill('SIGTERM');
    const end = await player.waitFor('speech.end', (m) => m.id === start.id);
    const closed = await player.closed;
    expect(closed.code).toBe(1001);
    expect(closed.at).toBeGreaterThanOrEqual(end.at);
    const response = await speaking;
    expect(response.status).toBe(200);
    expect(((await response.json()) as { status: string }).status).toBe('completed');
    expect(await cli.exited).toBe(0);
    // The banner shows the key to its owner; log lines never do.
    const logLines = cli
      .output()
      .split('\n')
      .filter((line) => line.startsWith('{'));
    expect(logLines.length).toBeGreaterThan(3);
    for (const line of logLines) expect(line).not.toContain(key);
  });

  it('on SIGTERM writes the log lines still waiting in its batch (the last requests, "stopped") before it exits', async () => {
    const key = 'test-key-for-log-flush-0123456789';
    const cli = await startCli({ EARSHOT_DATA_DIR: dataDir, EARSHOT_API_KEY: key });
    for (const id of ['last-1', 'last-2']) {
      const answer = await fetch(`${cli.url}/api/v1/settings`, {
        headers: { authorization: `Bearer ${key}`, 'x-request-id': id },
      });
      expect(answer.status).toBe(200);
    }
    cli.child.kill('SIGTERM');
    expect(await cli.exited).toBe(0);
    const logLines = cli
      .output()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { msg: string; reqId?: string });
    const requests = logLines.filter((line) => line.msg === 'request').map((line) => line.reqId);
    expect(requests).toEqual(['last-1', 'last-2']);
    expect(logLines.at(-1)?.msg).toBe('stopped');
  });

  it('refuses to start with a clear message when the environment is invalid', async () => {
    const result = await runCli(['serve'], {
      EARSHOT_DATA_DIR: dataDir,
      PORT: 'eighty',
      EARSHOT_API_KEYS: 'alice:nothex',
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/PORT[\s\S]*EARSHOT_API_KEYS entry 1/);
  });
});
