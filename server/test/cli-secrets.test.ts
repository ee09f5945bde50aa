import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startStandin, type Standin } from '@earshot/elevenlabs-standin';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_PATH, expectNoSecret, freePort, runCli, startCli } from './support/cli.js';
import { connectPlayer } from './support/player.js';
import { startTestServer, type TestServer } from './support/server.js';

// Fresh random secrets, so any run of 10 of their characters in an output can only be a leak.
const ELEVENLABS_KEY = `sk_${randomBytes(24).toString('hex')}`;
const EARSHOT_KEY = `esk_${randomBytes(24).toString('base64url')}`;
const EARSHOT_KEY_HASH = createHash('sha256').update(EARSHOT_KEY).digest('hex');

async function speakAndHear(url: string, key: string): Promise<void> {
  const player = await connectPlayer(url, key);
  await player.waitFor('hello');
  const response = await fetch(`${url}/api/v1/speak`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ text: 'Nothing secret is said here.' }),
  });
  expect(response.status).toBe(200);
  await player.waitFor('speech.end');
  const mcp = await fetch(`${url}/mcp`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${key}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
    },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
  });
  await mcp.body?.cancel();
  await player.close();
}

/** `earshot mcp` driven by the SDK's stdio client, as an agent runs it; its stderr is what agents log. */
async function mcpSession(env: Record<string, string>, cwd: string) {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [CLI_PATH, 'mcp'],
    env: { PATH: process.env.PATH ?? '', ...env },
    cwd,
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (data: Buffer) => (stderr += data.toString()));
  const client = new Client({ name: 'earshot-secrets-test', version: '1.0.0' });
  await client.connect(transport);
  return { client, stderr: () => stderr };
}

describe('keys never reach output', { timeout: 180_000 }, () => {
  let dir: string;
  let standin: Standin;
  let server: TestServer;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'earshot-secrets-'));
    standin = await startStandin({ apiKeys: [ELEVENLABS_KEY] });
    server = await startTestServer({ users: ['alice'] });
  });
  afterAll(async () => {
    await server.close();
    await standin.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('serve, output not a terminal: the banner says where the generated key is; no key in banner or debug logs', async () => {
    const dataDir = join(dir, 'generated');
    const cli = await startCli({ EARSHOT_DATA_DIR: dataDir, EARSHOT_LOG_LEVEL: 'debug' });
    const keyFile = join(dataDir, 'api-key');
    const key = (await readFile(keyFile, 'utf8')).trim();
    expect(cli.output()).toContain(`Player page: ${cli.url}/ `);
    expect(cli.output()).toContain(
      `API key: new, saved in ${keyFile} (mode 0600); show it with: cat ${keyFile}`,
    );
    expect(cli.output()).not.toContain('#key=');
    await speakAndHear(cli.url, key);
    cli.child.kill('SIGTERM');
    expect(await cli.exited).toBe(0);
    expectNoSecret(cli.output(), [key], 'serve output');
  });

  it('serve with EARSHOT_API_KEY and ELEVENLABS_API_KEY: neither appears, even at debug level', async () => {
    const cli = await startCli({
      EARSHOT_DATA_DIR: join(dir, 'raw'),
      EARSHOT_API_KEY: EARSHOT_KEY,
      ELEVENLABS_API_KEY: ELEVENLABS_KEY,
      ELEVENLABS_BASE_URL: standin.url,
      EARSHOT_LOG_LEVEL: 'debug',
    });
    expect(cli.output()).toContain('API key: the one in EARSHOT_API_KEY');
    await speakAndHear(cli.url, EARSHOT_KEY);
    cli.child.kill('SIGTERM');
    expect(await cli.exited).toBe(0);
    expectNoSecret(cli.output(), [EARSHOT_KEY, ELEVENLABS_KEY], 'serve output');
  });

  it('serve with EARSHOT_API_KEYS names the users, never their key hashes', async () => {
    const cli = await startCli({
      EARSHOT_DATA_DIR: join(dir, 'hashes'),
      EARSHOT_API_KEYS: `carol:${EARSHOT_KEY_HASH}`,
      EARSHOT_LOG_LEVEL: 'debug',
    });
    expect(cli.output()).toContain('Users (keys from EARSHOT_API_KEYS): carol');
    await speakAndHear(cli.url, EARSHOT_KEY);
    cli.child.kill('SIGTERM');
    expect(await cli.exited).toBe(0);
    expectNoSecret(cli.output(), [EARSHOT_KEY, EARSHOT_KEY_HASH], 'serve output');
  });

  it('earshot mcp prints the player URL without the key, and where the key is, on stderr', async () => {
    const dataDir = join(dir, 'mcp');
    const port = await freePort();
    const env = {
      PORT: String(port),
      EARSHOT_DATA_DIR: dataDir,
      EARSHOT_LOG_LEVEL: 'debug',
      ELEVENLABS_API_KEY: ELEVENLABS_KEY,
      ELEVENLABS_BASE_URL: standin.url,
    };
    const first = await mcpSession(env, dir);
    const keyFile = join(dataDir, 'api-key');
    const key = (await readFile(keyFile, 'utf8')).trim();
    const spoken = (await first.client.callTool({
      name: 'speak',
      arguments: { text: 'Spoken over stdio.' },
    })) as CallToolResult;
    expect(spoken.isError).toBeFalsy();
    const second = await mcpSession(env, dir);
    await second.client.ping();
    await second.client.close();
    await first.client.close();

    const where = `(sign in with the key in ${keyFile}; show it with: cat ${keyFile})`;
    expect(first.stderr()).toContain(
      `Open the player and click "Enable audio": http://127.0.0.1:${port}/ ${where}`,
    );
    expect(second.stderr()).toContain(`Player: http://127.0.0.1:${port}/ ${where}`);
    expectNoSecret(first.stderr() + second.stderr(), [key, ELEVENLABS_KEY], 'earshot mcp stderr');

    // Bridging with a key the server rejects, or with a key pasted into EARSHOT_URL.
    const rejected = await runCli(['mcp'], { EARSHOT_URL: server.url, EARSHOT_API_KEY: EARSHOT_KEY });
    expect(rejected.code).toBe(1);
    expect(rejected.stderr).toMatch(/rejected the API key from EARSHOT_API_KEY/);
    const pasted = await runCli(['mcp'], { EARSHOT_URL: EARSHOT_KEY });
    expect(pasted.code).toBe(1);
    expect(pasted.stderr).toMatch(/^EARSHOT_URL is not a URL/);
    expectNoSecret(rejected.stderr + pasted.stderr + rejected.stdout + pasted.stdout, [EARSHOT_KEY]);
  });

  it('say and doctor print no key, whether the key works or not', async () => {
    const alice = server.keys.alice!;
    const offline = { PORT: String(await freePort()), EARSHOT_DATA_DIR: join(dir, 'say') };
    const wrongEleven = `sk_${randomBytes(24).toString('hex')}`;
    const doctorEnv = (elevenLabsKey: string) => ({
      PORT: '0',
      EARSHOT_DATA_DIR: join(dir, `doctor-${elevenLabsKey.slice(3, 9)}`),
      EARSHOT_API_KEY: EARSHOT_KEY,
      ELEVENLABS_API_KEY: elevenLabsKey,
      ELEVENLABS_BASE_URL: standin.url,
      EARSHOT_LOG_LEVEL: 'debug',
    });
    // Independent processes, run side by side.
    const results = await Promise.all([
      runCli(['say', 'Through the server.'], {
        EARSHOT_URL: server.url,
        EARSHOT_API_KEY: alice,
        EARSHOT_LOG_LEVEL: 'debug',
      }),
      runCli(['say', 'Wrong key.'], { EARSHOT_URL: server.url, EARSHOT_API_KEY: EARSHOT_KEY }),
      runCli(['say', 'To a file.', '--out', join(dir, 'eleven.wav')], {
        ...offline,
        ELEVENLABS_API_KEY: ELEVENLABS_KEY,
        ELEVENLABS_BASE_URL: standin.url,
      }),
      runCli(['say', 'To a file.', '--out', join(dir, 'rejected.wav')], {
        ...offline,
        ELEVENLABS_API_KEY: wrongEleven,
        ELEVENLABS_BASE_URL: standin.url,
      }),
      runCli(['doctor'], doctorEnv(ELEVENLABS_KEY)),
      runCli(['doctor'], doctorEnv(wrongEleven)),
    ]);
    const [spoken, refused, written, rejected, doctorGood, doctorBad] = results;
    expect(spoken.code).toBe(0);
    expect(refused.code).not.toBe(0);
    expect(written.code).toBe(0);
    expect(rejected.code).toBe(1);
    expect(rejected.stderr).toMatch(/ElevenLabs rejected the API key/);
    expect(doctorGood.stdout).toMatch(/ok +ElevenLabs: key accepted/);
    expect(doctorBad.stdout).toMatch(/FAIL +ElevenLabs: ElevenLabs rejected the API key/);
    const outputs = results.map((result) => result.stdout + result.stderr).join('\n');
    expectNoSecret(outputs, [alice, EARSHOT_KEY, ELEVENLABS_KEY, wrongEleven], 'say/doctor output');
  });

  it('keys create prints its new key and hash (its job) and nothing secret on its error paths', async () => {
    const made = await runCli(['keys', 'create', 'dave'], {});
    expect(made.code).toBe(0);
    const [, key] = /^ {2}(esk_\S+)$/m.exec(made.stdout) ?? [];
    expect(made.stdout).toContain(`dave:${createHash('sha256').update(key!).digest('hex')}`);

    const failures = await Promise.all([
      runCli(['keys', 'create', `${EARSHOT_KEY}!`], {}),
      runCli(['keys', 'create', 'dave', EARSHOT_KEY], {}),
      runCli(['keys', EARSHOT_KEY], {}),
      runCli([`${EARSHOT_KEY}`], {}),
      runCli(['doctor', EARSHOT_KEY], {}),
    ]);
    for (const failure of failures) {
      expect(failure.code).toBe(2);
      expectNoSecret(failure.stdout + failure.stderr, [EARSHOT_KEY], 'keys/usage error');
    }
  });

  it('configuration errors never echo a key, whichever command meets them', async () => {
    const badEnv = {
      PORT: '0',
      EARSHOT_DATA_DIR: join(dir, 'bad-config'),
      // A raw key pasted where hashes go, and keys pasted into the wrong variables.
      EARSHOT_API_KEYS: `alice:${EARSHOT_KEY_HASH},${EARSHOT_KEY},bob:${EARSHOT_KEY}`,
      EARSHOT_API_KEY: 'tooShortKey1234',
      ELEVENLABS_API_KEY: ELEVENLABS_KEY,
      ELEVENLABS_BASE_URL: ELEVENLABS_KEY,
      EARSHOT_PUBLIC_URL: EARSHOT_KEY,
    };
    const commands = [['serve'], ['mcp'], ['say', 'hi'], ['doctor']];
    const results = await Promise.all(commands.map((args) => runCli(args, badEnv)));
    for (const [i, args] of commands.entries()) {
      const result = results[i]!;
      const output = result.stdout + result.stderr;
      expect(result.code, output).toBe(args[0] === 'doctor' ? 1 : 2);
      expect(output).toMatch(/EARSHOT_API_KEYS entry 2: has no ":" \(is it a raw key\?/);
      expect(output).toMatch(/EARSHOT_API_KEYS entry 3: needs 64 hex digits/);
      expect(output).toMatch(/ELEVENLABS_BASE_URL/);
      expectNoSecret(output, [EARSHOT_KEY, EARSHOT_KEY_HASH, ELEVENLABS_KEY, 'tooShortKey1234'], args[0]);
    }
  });
});
