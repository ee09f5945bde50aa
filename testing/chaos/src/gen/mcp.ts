import type { UserName } from '../keys.js';
import type { HttpInput } from '../inputs.js';
import type { Rng } from '../prng.js';
import {
  authHeaders,
  contentTypeHeader,
  hostAndOrigin,
  pickUser,
  PLAYED_DEADLINE_MS,
  REQUEST_DEADLINE_MS,
  SPEECH_DEADLINE_MS,
  type World,
} from './common.js';
import { cancellation } from './cancellation.js';
import { toolArguments } from './tool-args.js';
import { jsonBytes, mutateObject, weirdString, weirdValue } from './values.js';

const PROTOCOL_VERSIONS = ['2025-11-25', '2025-06-18', '2025-03-26', '2024-11-05', '2026-07-28'];
/** Tools that make audio (they queue and may wait for players), so they get the speech deadline. */
const SPEECH_TOOLS = new Set([
  'speak',
  'speak_dialogue',
  'replay',
  'text_to_speech',
  'text_to_sound_effects',
  'design_voice',
]);

/** Call weights: the tools that run deep paths (queue, engine, store) most; reads and lists less. */
const TOOL_WEIGHTS: Record<string, number> = {
  speak: 12,
  text_to_speech: 5,
  speak_dialogue: 3,
  replay: 3,
  stop_speaking: 2,
  list_history: 2,
  delete_history_item: 1,
  update_settings: 2,
};

function requestId(rng: Rng): unknown {
  return rng.weighted<() => unknown>([
    [10, () => rng.int(1, 1_000_000)],
    [4, () => `req-${rng.int(1, 1_000_000)}`],
    [1, () => rng.pick([0, -1, 1.5, 2 ** 53 + 1, '', null, true, {}, [], 'x'.repeat(5000)])],
  ])();
}

interface Message {
  readonly body: unknown;
  readonly label: string;
  readonly speech: boolean;
  readonly played: boolean;
  readonly id: unknown;
}

function message(rng: Rng, world: World, deep: boolean): Message {
  const id = requestId(rng);
  const envelope = (method: string, params?: unknown) => ({
    jsonrpc: '2.0',
    id,
    method,
    ...(params === undefined ? {} : { params }),
  });
  const kind = rng.weighted<string>([
    [deep ? 70 : 40, 'call'],
    [4, 'tools/list'],
    [4, 'initialize'],
    [2, 'ping'],
    [2, 'resources/list'],
    [1, 'resources/templates/list'],
    [3, 'resources/read'],
    [2, 'logging/setLevel'],
    [2, 'notification'],
    [1, 'prompts/list'],
    [1, 'completion/complete'],
    [1, 'server/discover'],
    [2, 'unknown'],
  ]);
  switch (kind) {
    case 'call': {
      const tool = rng.weighted(world.tools.map((t) => [TOOL_WEIGHTS[t.name] ?? 1, t] as const));
      const args = toolArguments(rng, tool, world);
      const params: Record<string, unknown> = { name: tool.name, arguments: args };
      if (rng.chance(0.2))
        params._meta = { progressToken: rng.chance(0.8) ? rng.int(1, 99) : weirdValue(rng) };
      return {
        body: envelope('tools/call', params),
        label: `mcp tools/call ${tool.name}`,
        speech: SPEECH_TOOLS.has(tool.name),
        played: args.wait === 'played',
        id,
      };
    }
    case 'initialize':
      return {
        body: envelope('initialize', {
          protocolVersion: rng.chance(0.8) ? rng.pick(PROTOCOL_VERSIONS) : weirdString(rng),
          capabilities: rng.chance(0.8) ? {} : weirdValue(rng),
          clientInfo: { name: 'chaos', version: '1' },
        }),
        label: 'mcp initialize',
        speech: false,
        played: false,
        id,
      };
    case 'resources/read':
      return {
        body: envelope('resources/read', {
          uri: rng.pick([
            `earshot://history/{{hid:${rng.int(0, 1_000_000)}}}`,
            'earshot://history/../../etc/passwd',
            'ui://earshot/player',
            'file:///etc/passwd',
            'earshot://history/',
          ]),
        }),
        label: 'mcp resources/read',
        speech: false,
        played: false,
        id,
      };
    case 'logging/setLevel':
      return {
        body: envelope('logging/setLevel', { level: rng.pick(['debug', 'info', 'emergency', 'nope', 7]) }),
        label: 'mcp logging/setLevel',
        speech: false,
        played: false,
        id,
      };
    case 'notification':
      return {
        body: {
          jsonrpc: '2.0',
          method: rng.pick([
            'notifications/initialized',
            'notifications/cancelled',
            'notifications/progress',
            'notifications/roots/list_changed',
          ]),
          params: rng.chance(0.5) ? { requestId: rng.int(1, 1_000_000), reason: 'chaos' } : weirdValue(rng),
        },
        label: 'mcp notification',
        speech: false,
        played: false,
        id: undefined,
      };
    case 'unknown':
      return {
        body: envelope(
          rng.pick(['foo/bar', '', 'rpc.discover', 'tools/call/extra', '__proto__', 'TOOLS/LIST']),
        ),
        label: 'mcp unknown method',
        speech: false,
        played: false,
        id,
      };
    default:
      return {
        body: envelope(kind, rng.chance(0.8) ? {} : weirdValue(rng)),
        label: `mcp ${kind}`,
        speech: false,
        played: false,
        id,
      };
  }
}

function mcpHeaders(rng: Rng, user: UserName, valid: boolean): [string, string][] {
  const headers = authHeaders(rng, user, valid ? 1 : 0.85);
  headers.push(
    ...rng.weighted<() => [string, string][]>([
      [20, () => [['Accept', 'application/json, text/event-stream']]],
      [1, () => [['Accept', 'application/json']]],
      [1, () => [['Accept', 'text/event-stream']]],
      [1, () => []],
      [1, () => [['Accept', '*/*']]],
    ])(),
  );
  if (rng.chance(valid ? 0.3 : 0.5)) {
    headers.push([
      'Mcp-Protocol-Version',
      rng.chance(0.8)
        ? rng.pick(PROTOCOL_VERSIONS)
        : rng.pick(['1999-01-01', 'latest', '', '2025-06-18, 2025-03-26']),
    ]);
  }
  if (!valid && rng.chance(0.1))
    headers.push(['Mcp-Session-Id', rng.pick(['abc', '', 'x'.repeat(300), '\u0001'])]);
  if (!valid && rng.chance(0.05)) headers.push(['Last-Event-ID', '42']);
  return headers;
}

/** An MCP input: a JSON-RPC message (or batch) to /mcp, usually a valid tool call, sometimes mutated. */
export function mcpInput(rng: Rng, world: World): HttpInput {
  const user = pickUser(rng);
  const mode = rng.weighted<'valid' | 'one' | 'many' | 'cancel' | 'batch' | 'method'>([
    [50, 'valid'],
    [30, 'one'],
    [6, 'many'],
    [6, 'cancel'],
    [4, 'batch'],
    [4, 'method'],
  ]);
  const first = message(rng, world, mode !== 'many');
  const deadlineMs = first.played
    ? PLAYED_DEADLINE_MS
    : first.speech
      ? SPEECH_DEADLINE_MS
      : REQUEST_DEADLINE_MS;
  let headers = mcpHeaders(rng, user, mode === 'valid' || mode === 'cancel');
  let body: string | Buffer = JSON.stringify(first.body);
  let label = first.label;
  let method = 'POST';
  let foreignOrigin = false;

  if (mode === 'one' || mode === 'many') {
    for (let i = 0, n = mode === 'one' ? 1 : rng.int(2, 4); i < n; i++) {
      const kind = rng.weighted<string>([
        [5, 'params'],
        [3, 'envelope'],
        [2, 'text'],
        [1, 'content-type'],
        [1, 'place'],
      ]);
      label += ` +${kind}`;
      const parsed = first.body as Record<string, unknown>;
      if (kind === 'params' && typeof parsed.params === 'object' && parsed.params !== null) {
        const params = parsed.params as Record<string, unknown>;
        const args = params.arguments;
        const mutated =
          args && typeof args === 'object' && !Array.isArray(args) && rng.chance(0.8)
            ? { ...params, arguments: mutateObject(rng, args as Record<string, unknown>) }
            : mutateObject(rng, params);
        body = JSON.stringify({ ...parsed, params: mutated });
      } else if (kind === 'envelope' || kind === 'params') {
        body = JSON.stringify(mutateObject(rng, parsed));
      } else if (kind === 'text') {
        body = jsonBytes(rng, first.body, 1);
      } else if (kind === 'content-type') {
        headers = [...headers.filter(([name]) => name !== 'Content-Type'), ...contentTypeHeader(rng)];
      } else {
        const place = hostAndOrigin(rng);
        headers = [...headers, ...place.headers];
        foreignOrigin = place.foreignOrigin;
      }
    }
  } else if (mode === 'batch') {
    const parts = Array.from({ length: rng.int(0, 4) }, () => message(rng, world, true).body);
    body = JSON.stringify(rng.chance(0.8) ? parts : [...parts, weirdValue(rng)]);
    label = `mcp batch of ${parts.length}`;
  } else if (mode === 'method') {
    method = rng.pick(['GET', 'DELETE', 'PUT', 'PATCH', 'OPTIONS', 'HEAD']);
    label = `mcp ${method}`;
    if (rng.chance(0.5)) headers.push(['Accept', 'text/event-stream']);
  }

  if (!headers.some(([name]) => name === 'Content-Type') && rng.chance(0.97))
    headers.push(['Content-Type', 'application/json']);
  const base: HttpInput = {
    kind: 'http',
    channel: 'mcp',
    label,
    user,
    method,
    path: '/mcp',
    headers,
    ...(method === 'GET' || method === 'HEAD' ? {} : { body }),
    deadlineMs: mode === 'batch' ? PLAYED_DEADLINE_MS : deadlineMs,
    ...(foreignOrigin ? { foreignOrigin } : {}),
  };
  return mode === 'cancel' ? cancellation(rng, world, base, user) : base;
}
