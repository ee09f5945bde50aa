import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startStandin, type Standin } from '@earshot/elevenlabs-standin';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_PATH } from './support/cli.js';
import { connectPlayer } from './support/player.js';
import { startTestServer, type TestServer } from './support/server.js';

const run = async (args: string[], env: Record<string, string>) => {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [CLI_PATH, ...args], {
      env: { PATH: process.env.PATH ?? '', ...env },
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
};

describe('earshot say and earshot doctor', () => {
  let dir: string;
  let server: TestServer;
  let standin: Standin;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'earshot-say-'));
    server = await startTestServer();
    standin = await startStandin({ apiKeys: ['doctor-key'] });
  });
  afterAll(async () => {
    await server.close();
    await standin.close();
    await rm(dir, { recursive: true, force: true });
  });
  const free = { PORT: '1', EARSHOT_DATA_DIR: '' };

  it('says through the running server, so its players hear it and history says it came from the CLI', async () => {
    const player = await connectPlayer(server.url, server.keys.alice!, { audio: 'on' });
    const result = await run(['say', 'Built and deployed.', '--voice', 'robert'], {
      EARSHOT_URL: server.url,
      EARSHOT_API_KEY: server.keys.alice!,
    });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/Spoke 19 characters as Robert to 1 listening player/);
    const start = await player.waitFor('speech.start');
    expect(start).toMatchObject({ text: 'Built and deployed.', source: 'cli' });
    await player.close();
  });

  it('writes a WAV through the server without playing it, and refuses to overwrite', async () => {
    const player = await connectPlayer(server.url, server.keys.bob!);
    const out = join(dir, 'via-server.wav');
    const env = { EARSHOT_URL: server.url, EARSHOT_API_KEY: server.keys.bob! };
    const result = await run(['say', 'Saved for later.', '--out', out], env);
    expect(result.code).toBe(0);
    const wav = await readFile(out);
    expect(wav.toString('ascii', 0, 4)).toBe('RIFF');
    expect(wav.length).toBeGreaterThan(10_000);
    expect(player.messages.map((m) => m.type)).toEqual(['hello']);
    const again = await run(['say', 'Again.', '--out', out], env);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/exists/);
    await player.close();
  });

  it('writes a WAV with the offline engine when no server runs, and otherwise says how to start one', async () => {
    const out = join(dir, 'offline.wav');
    const env = { ...free, EARSHOT_DATA_DIR: join(dir, 'data') };
    const written = await run(['say', 'Nobody is serving.', '--voice', 'alan', '--out', out], env);
    expect(written.code).toBe(0);
    expect(written.stdout).toMatch(/Alan, offline engine/);
    const wav = await readFile(out);
    expect(wav.readUInt32LE(24)).toBe(16_000);
    const refused = await run(['say', 'Hello?'], env);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/No Earshot server is running.*earshot serve/);
  });

  it('doctor passes on a working offline setup and fails clearly on a rejected ElevenLabs key', async () => {
    const good = await run(['doctor'], { ...free, PORT: '0', EARSHOT_DATA_DIR: join(dir, 'doctor') });
    expect(good.code).toBe(0);
    expect(good.stdout).toMatch(/ok +Offline voice: Flite works/);
    expect(good.stdout).toMatch(/All good/);
    // The repo's own node_modules: every start after this one reads its compiled code.
    expect(good.stdout).toMatch(
      /ok +Start-up cache: \/.*\/node_modules\/\.cache\/earshot\/\S+ \(later starts read/,
    );
    expect(good.stdout).toMatch(
      /ok +Running: the bundle \S+\/server\/dist\/bundle \(npm run build made it\)/,
    );
    const uncached = await run(['doctor'], {
      ...free,
      PORT: '0',
      EARSHOT_DATA_DIR: join(dir, 'doctor'),
      NODE_DISABLE_COMPILE_CACHE: '1',
    });
    expect(uncached.code).toBe(0);
    expect(uncached.stdout).toMatch(/ok +Start-up cache: off \(NODE_DISABLE_COMPILE_CACHE is set\)/);
    const bad = await run(['doctor'], {
      PORT: '0',
      EARSHOT_DATA_DIR: join(dir, 'doctor'),
      ELEVENLABS_API_KEY: 'wrong-key',
      ELEVENLABS_BASE_URL: standin.url,
    });
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/FAIL +ElevenLabs: ElevenLabs rejected the API key/);
    const right = await run(['doctor'], {
      PORT: '0',
      EARSHOT_DATA_DIR: join(dir, 'doctor'),
      ELEVENLABS_API_KEY: 'doctor-key',
      ELEVENLABS_BASE_URL: standin.url,
    });
    expect(right.stdout).toMatch(/ok +ElevenLabs: key accepted/);
  });

  it('doctor does not call a setup "all good" to serve when an Earshot already holds its port', async () => {
    const port = new URL(server.url).port;
    const result = await run(['doctor'], { PORT: port, EARSHOT_DATA_DIR: join(dir, 'doctor-running') });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      /ok +Port: taken by an Earshot server that already runs at http:\/\/127\.0\.0\.1:\d+/,
    );
    expect(result.stdout).not.toMatch(/All good/);
    expect(result.stdout).toContain(`Earshot is already running at ${server.url}: open ${server.url}/`);
    expect(result.stdout).toMatch(/stop it first or set PORT/);
  });

  it('doctor refuses flags and arguments it does not know, before checking anything', async () => {
    const flag = await run(['doctor', '--fix'], { ...free, PORT: '0' });
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(/^Unknown option --fix\.\nUsage: earshot doctor/);
    expect(flag.stdout).toBe('');
    const extra = await run(['doctor', 'now'], { ...free, PORT: '0' });
    expect(extra.code).toBe(2);
    expect(extra.stderr).toMatch(/^Unexpected argument\./);
  });

  it('doctor fails the key check too when the folder the key would be saved in is unusable', async () => {
    // A file where the data folder's parent should be: unusable for root too.
    const blocker = join(dir, 'not-a-folder');
    await writeFile(blocker, 'x');
    const result = await run(['doctor'], { PORT: '0', EARSHOT_DATA_DIR: join(blocker, 'data') });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(
      /FAIL +Data directory: Cannot create the folder .*part of that path is a file/,
    );
    expect(result.stdout).toMatch(
      /FAIL +API keys: no key yet, and none can be saved in .*until the data directory is fixed/,
    );
    expect(result.stdout).not.toMatch(/ok +API keys/);
    // The folder's problem is explained once, not again under each check that needs it.
    expect(result.stdout).toMatch(/FAIL +Store: cannot be opened until the data directory is fixed/);
    expect(result.stdout.match(/EARSHOT_DATA_DIR/g)).toHaveLength(1);
    expect(result.stdout).toMatch(/3 problem\(s\) to fix/);
  });
});
