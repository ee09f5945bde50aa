// What a start loads that it does not need costs every `earshot serve` and every agent session's `earshot mcp`:
// a whole Earshot in a fresh process (support/loaded-modules-child.ts) says what it loaded.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_PATH, freePort } from './support/cli.js';

const CHILD = fileURLToPath(new URL('./support/loaded-modules-child.ts', import.meta.url));

interface Footprint {
  readonly mcp: number;
  readonly rest: number;
  /** CommonJS modules loaded by the end (after an MCP and a REST call). */
  readonly modules: string[];
  /** Node's own modules loaded once ready, before any call. */
  readonly builtinsAtReady: string[];
}

describe('what a running Earshot has loaded', () => {
  let dataDir: string;
  let footprint: Footprint;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'earshot-modules-'));
    const child = spawn(process.execPath, [
      '--import',
      'tsx',
      '--conditions=@earshot/source',
      CHILD,
      dataDir,
    ]);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (data: Buffer) => (stdout += data.toString()));
    child.stderr.on('data', (data: Buffer) => (stderr += data.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code, stderr).toBe(0);
    footprint = JSON.parse(stdout) as Footprint;
    expect([footprint.mcp, footprint.rest]).toEqual([200, 200]);
  });

  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it("neither of Fastify's schema compilers, having answered MCP and REST calls (schema-compilers.ts)", () => {
    // The check can see CommonJS packages: Fastify itself is one.
    expect(footprint.modules.some((path) => path.includes('/node_modules/fastify/'))).toBe(true);
    // (Fastify's error serializer is prebuilt: it needs only fast-json-stringify's small runtime, lib/serializer.)
    const compilers =
      /\/(@fastify\/ajv-compiler|@fastify\/fast-json-stringify-compiler|fast-json-stringify\/index\.js|ajv\/dist\/jtd)/;
    expect(footprint.modules.filter((path) => compilers.test(path))).toEqual([]);
  });

  it("not Node's fetch stack (undici) by the time it is ready (elevenlabs-http.ts requires node:http)", () => {
    // The check can see Node's own modules: the HTTP server is one.
    expect(footprint.builtinsAtReady).toContain('NativeModule _http_server');
    expect(footprint.builtinsAtReady.filter((name) => name.includes('undici'))).toEqual([]);
  });

  it("`earshot mcp` answers initialize from the server it starts, and stops, without Node's fetch stack", async () => {
    // Its own server serves stdio in process (stdio-session.ts) and its port probe uses node:http (probe.ts):
    // neither needs fetch, whose first use loads undici (~90 ms of the start an agent waits for).
    const loadedFile = join(dataDir, 'mcp-loaded.json');
    const preload =
      "import { writeFileSync } from 'node:fs'; process.on('exit', () => " +
      'writeFileSync(process.env.EARSHOT_TEST_LOADED_FILE, JSON.stringify(process.moduleLoadList)));';
    const child = spawn(
      process.execPath,
      ['--import', `data:text/javascript,${encodeURIComponent(preload)}`, CLI_PATH, 'mcp'],
      {
        env: {
          PATH: process.env.PATH ?? '',
          PORT: String(await freePort()),
          EARSHOT_DATA_DIR: join(dataDir, 'mcp'),
          EARSHOT_TEST_LOADED_FILE: loadedFile,
        },
      },
    );
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (data: Buffer) => (stderr += data.toString()));
    const answered = new Promise<void>((resolve) =>
      child.stdout.on('data', (data: Buffer) => {
        stdout += data.toString();
        if (stdout.includes('"result"')) resolve();
      }),
    );
    const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
    const initialize = {
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: {
        protocolVersion: '2025-06-18',
        capabilities: {},
        clientInfo: { name: 'footprint', version: '1' },
      },
    };
    child.stdin.write(`${JSON.stringify(initialize)}\n`);
    await Promise.race([
      answered,
      closed.then((code) => Promise.reject(new Error(`exited ${code}: ${stderr}`))),
    ]);
    expect(JSON.parse(stdout.split('\n')[0]!)).toMatchObject({
      id: 1,
      result: { serverInfo: { name: 'earshot' } },
    });
    child.stdin.end();
    expect(await closed, stderr).toBe(0);
    const loaded = JSON.parse(await readFile(loadedFile, 'utf8')) as string[];
    expect(loaded).toContain('NativeModule _http_server');
    expect(loaded.filter((name) => name.includes('undici'))).toEqual([]);
  });
});
