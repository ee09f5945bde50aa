/**
 * A whole Earshot in a fresh process, for start-footprint.test.ts. Run with
 * `node --import tsx --conditions=@earshot/source loaded-modules-child.ts DATA_DIR`: starts Earshot (the
 * ElevenLabs voice, pointed at a closed port: a start never calls it; SQLite in DATA_DIR; any free port), notes
 * which of Node's own modules it has loaded once ready, answers one MCP tools/call and one REST call, then prints
 * as JSON those builtins and the CommonJS modules the process loaded (ESM imports of CommonJS packages land there
 * too) and stops.
 */
import { createRequire } from 'node:module';
import { loadConfig } from '../../src/config/env.js';
import { createLogger } from '../../src/logger.js';
import { startEarshot } from '../../src/runtime.js';

const [dataDir] = process.argv.slice(2);
if (!dataDir) throw new Error('usage: loaded-modules-child.ts DATA_DIR');
const key = `esk_${'k'.repeat(40)}`;
const running = await startEarshot(
  loadConfig({
    EARSHOT_DATA_DIR: dataDir,
    EARSHOT_API_KEY: key,
    PORT: '0',
    ELEVENLABS_API_KEY: 'sk_start_footprint',
    ELEVENLABS_BASE_URL: 'http://127.0.0.1:9',
  }),
  {
    logger: createLogger('warn', { destination: 2 }),
  },
);
// Node's own modules loaded so far (`NativeModule internal/deps/undici/undici`, …), before this file's fetch below.
const builtinsAtReady = (process as unknown as { moduleLoadList: string[] }).moduleLoadList.filter((name) =>
  name.startsWith('NativeModule '),
);
const headers = { authorization: `Bearer ${key}` };
const mcp = await fetch(`${running.url}/mcp`, {
  method: 'POST',
  headers: {
    ...headers,
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    'mcp-protocol-version': '2025-11-25',
  },
  body: JSON.stringify({
    jsonrpc: '2.0',
    id: 1,
    method: 'tools/call',
    params: { name: 'get_settings', arguments: {} },
  }),
});
const rest = await fetch(`${running.url}/api/v1/settings`, { headers });
const modules = Object.keys(createRequire(import.meta.url).cache);
process.stdout.write(`${JSON.stringify({ mcp: mcp.status, rest: rest.status, modules, builtinsAtReady })}\n`);
await running.shutdown();
