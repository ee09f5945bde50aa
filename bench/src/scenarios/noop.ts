import { Agent, request } from 'node:http';
import type { RunContext } from '../context.js';
import { cpuMs } from '../proc.js';

// Enough for the server to settle after its start (JIT tiers compiled on the same pinned CPU, start-up garbage
// collected): with 20, whichever MCP kind came first paid for it — its first 1,000 calls cost 1.1–1.25 ms of
// CPU each, the next 1,000 0.5–0.8 ms (same server, same calls).
const WARM_UP_CALLS = 1000;
/** Batches each kind's measured calls are split into (see below); each batch spans many 10 ms CPU ticks. */
const ROUNDS = 5;

/**
 * Scenario d, Earshot only: calls that do nothing, one after another from one client — MCP `get_settings`
 * as a plain JSON-RPC POST (2025 revision, and 2026-07-28 with its `_meta` envelope) and through the official SDK client (what most agents use; the difference is
 * the client's own cost), REST `GET /api/v1/settings` and `GET /healthz`, all over keep-alive HTTP. Wall
 * time per call includes the client; server CPU per call is the process's utime+stime over the calls ÷
 * their number (10 ms ticks: enough calls make it precise).
 */
export async function noop(ctx: RunContext): Promise<void> {
  const { earshot } = ctx;
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const client = await earshot.mcpClient(0);
  const get = (path: string, auth: boolean) => () =>
    new Promise<void>((resolve, reject) => {
      const headers = auth ? { authorization: `Bearer ${earshot.key(0)}` } : {};
      const call = request(`${earshot.url}${path}`, { agent, headers, timeout: 30_000 }, (res) => {
        res.resume();
        res.on('end', () =>
          res.statusCode === 200 ? resolve() : reject(new Error(`${path} answered ${res.statusCode}`)),
        );
      });
      call.on('timeout', () => call.destroy(new Error(`${path}: no answer in 30 s`)));
      call.on('error', reject);
      call.end();
    });
  const mcp = earshot.mcp(0);
  const modern = earshot.mcp(0, 'modern');
  const kinds: [string, () => Promise<void>][] = [
    ['mcp', async () => void (await mcp.callTool('get_settings', {}, 30_000))],
    ['mcpModern', async () => void (await modern.callTool('get_settings', {}, 30_000))],
    [
      'mcpSdk',
      async () => {
        const result = await client.callTool({ name: 'get_settings', arguments: {} });
        if (result.isError) throw new Error(`get_settings failed: ${JSON.stringify(result.content)}`);
      },
    ],
    ['rest', get('/api/v1/settings', true)],
    ['healthz', get('/healthz', false)],
  ];
  try {
    for (const [, call] of kinds) for (let i = 0; i < WARM_UP_CALLS; i++) await call();
    // Measured in rounds, each kind's batch in turn (the order rotating), so no kind pays more than its share
    // for whatever the server does in the background (a late garbage collection, JIT tiers): measured one kind
    // after the other, the first one measured cost 0.1–0.15 ms more per call than the same path measured third.
    const calls = ctx.options.sizes.calls;
    const perBatch = Math.max(1, Math.floor(calls / ROUNDS));
    const totals = new Map(kinds.map(([kind]) => [kind, { cpu: 0, wall: 0, calls: 0 }]));
    for (let round = 0; round < ROUNDS; round++) {
      for (let turn = 0; turn < kinds.length; turn++) {
        const [kind, call] = kinds[(round + turn) % kinds.length]!;
        const total = totals.get(kind)!;
        const before = cpuMs(earshot.child.pid);
        const started = performance.now();
        for (let i = 0; i < perBatch; i++) await call();
        total.wall += performance.now() - started;
        total.cpu += cpuMs(earshot.child.pid) - before;
        total.calls += perBatch;
      }
    }
    for (const [kind, total] of totals) {
      ctx.record(`d.${kind}.ms`, 'earshot', total.wall / total.calls);
      ctx.record(`d.${kind}.cpu`, 'earshot', total.cpu / total.calls);
    }
  } finally {
    await client.close();
    agent.destroy();
  }
}
