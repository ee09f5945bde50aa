import { classifyInboundRequest, type InboundHttpRequest } from '@modelcontextprotocol/server';
import { describe, expect, it } from 'vitest';
import { MODERN_REVISIONS, plainModernToolCall } from './modern-call.js';
import { PROGRESS_TOKEN_METAS } from '../../test/support/request-meta.js';

const CLAIM = 'io.modelcontextprotocol/protocolVersion';
const INFO = 'io.modelcontextprotocol/clientInfo';
const CAPABILITIES = 'io.modelcontextprotocol/clientCapabilities';
const ENVELOPE = { [CLAIM]: '2026-07-28', [INFO]: { name: 'client', version: '1.0.0' }, [CAPABILITIES]: {} };
const CALL = { name: 'get_settings', arguments: {} };
const HEADERS = {
  protocolVersionHeader: '2026-07-28',
  mcpMethodHeader: 'tools/call',
  mcpNameHeader: 'get_settings',
};

/** A 2026-07-28 call of get_settings with `meta` as its `_meta` (left out when undefined) and `headers`. */
function request(
  meta: unknown,
  headers: Partial<InboundHttpRequest> = HEADERS,
  body: Record<string, unknown> = {},
): InboundHttpRequest {
  const params = meta === undefined ? CALL : { ...CALL, _meta: meta };
  return {
    httpMethod: 'POST',
    body: { jsonrpc: '2.0', id: 1, method: 'tools/call', params, ...body },
    ...headers,
  };
}

const ENVELOPES: unknown[] = [
  ENVELOPE,
  ...PROGRESS_TOKEN_METAS.map((meta) => (meta === undefined ? ENVELOPE : { ...ENVELOPE, ...meta })),
  { ...ENVELOPE, [CLAIM]: '2025-11-25' },
  { ...ENVELOPE, [CLAIM]: '2099-01-01' },
  { ...ENVELOPE, [CLAIM]: 7 },
  { ...ENVELOPE, [CLAIM]: ' 2026-07-28' },
  { ...ENVELOPE, [INFO]: 'garbage' },
  { ...ENVELOPE, [INFO]: { name: 'client' } },
  { ...ENVELOPE, [INFO]: { name: 'client', version: '1', title: 'A client', websiteUrl: 'https://x.test' } },
  { ...ENVELOPE, [CAPABILITIES]: [] },
  { ...ENVELOPE, [CAPABILITIES]: { elicitation: { form: {} }, sampling: {}, roots: { listChanged: true } } },
  { ...ENVELOPE, [CAPABILITIES]: { experimental: 'x' } },
  { ...ENVELOPE, 'io.modelcontextprotocol/logLevel': 'debug' },
  { ...ENVELOPE, 'io.modelcontextprotocol/logLevel': 'loud' },
  { ...ENVELOPE, traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
  { ...ENVELOPE, traceparent: 42 },
  { ...ENVELOPE, 'io.modelcontextprotocol/unknown': true },
  { ...ENVELOPE, vendor: { any: ['thing'] } },
  { [CLAIM]: '2026-07-28' },
  { [CLAIM]: '2026-07-28', [INFO]: { name: 'client', version: '1.0.0' } },
  { [INFO]: { name: 'client', version: '1.0.0' }, [CAPABILITIES]: {} },
  {},
  null,
  [],
  'meta',
  undefined,
];
const HEADER_SETS: Partial<InboundHttpRequest>[] = [
  HEADERS,
  { ...HEADERS, protocolVersionHeader: undefined },
  { ...HEADERS, protocolVersionHeader: '2025-11-25' },
  { ...HEADERS, protocolVersionHeader: '2099-01-01' },
  { ...HEADERS, protocolVersionHeader: ' 2026-07-28' },
  { ...HEADERS, mcpMethodHeader: undefined },
  { ...HEADERS, mcpMethodHeader: 'tools/list' },
  { ...HEADERS, mcpMethodHeader: ' tools/call' },
  { ...HEADERS, mcpNameHeader: undefined },
  { ...HEADERS, mcpNameHeader: 'speak' },
  { ...HEADERS, mcpNameHeader: ' get_settings' },
  { ...HEADERS, mcpNameHeader: `=?base64?${Buffer.from('get_settings').toString('base64')}?=` },
  { ...HEADERS, httpMethod: 'GET' },
];
const BODY_VARIATIONS: Record<string, unknown>[] = [
  {},
  { id: 'call-7' },
  { id: 1.5 },
  { id: null },
  { jsonrpc: '1.0' },
  { method: 'tools/list' },
  { extra: true },
  { result: {} },
  { params: { name: 'get_settings' } },
  { params: { name: 7, _meta: ENVELOPE } },
  { params: { name: 'get settings', _meta: ENVELOPE } },
  { params: [CALL] },
];

/** Every envelope under every header set, and every body variation under each, twice (the second time from kept verdicts). */
function corpus(): InboundHttpRequest[] {
  const once = [
    ...ENVELOPES.flatMap((meta) => HEADER_SETS.map((headers) => request(meta, headers))),
    ...ENVELOPES.flatMap((meta) => BODY_VARIATIONS.map((body) => request(meta, HEADERS, body))),
  ];
  return [...once, ...once];
}

describe('plainModernToolCall', () => {
  it('recognises only calls the SDK classifies as 2026-07-28 requests, with the standard headers in order', () => {
    const requests = corpus();
    const recognised = requests.filter((candidate) => plainModernToolCall(candidate) !== undefined);
    const wrong = recognised.filter((candidate) => {
      const route = classifyInboundRequest(candidate);
      const body = candidate.body as { params: { name: string } };
      return (
        route.kind !== 'modern' ||
        route.messageKind !== 'request' ||
        JSON.stringify(route.classification) !== JSON.stringify(plainModernToolCall(candidate)) ||
        !MODERN_REVISIONS.includes(candidate.protocolVersionHeader!) ||
        candidate.mcpMethodHeader !== 'tools/call' ||
        candidate.mcpNameHeader !== body.params.name
      );
    });
    expect(wrong.slice(0, 3), `${wrong.length} wrongly recognised`).toEqual([]);
    // Both sides reached: the plain calls recognised (both times), the rest left to the SDK.
    expect(recognised.length).toBeGreaterThanOrEqual(20);
    expect(requests.length - recognised.length).toBeGreaterThan(500);
  });

  it('recognises what a 2026-07-28 client sends, whatever its progress token', () => {
    for (const meta of [ENVELOPE, { ...ENVELOPE, progressToken: 'p' }, { ...ENVELOPE, progressToken: 9 }])
      expect(plainModernToolCall(request(meta)), JSON.stringify(meta)).toEqual({
        era: 'modern',
        revision: '2026-07-28',
      });
  });

  it('keeps no verdict that another envelope, header or token could borrow', () => {
    expect(plainModernToolCall(request(ENVELOPE))).toBeDefined();
    // The same envelope's verdict is kept; each of these differs in what decides, and is refused.
    expect(plainModernToolCall(request({ ...ENVELOPE, progressToken: 1.5 }))).toBeUndefined();
    expect(plainModernToolCall(request({ ...ENVELOPE, [INFO]: 'garbage' }))).toBeUndefined();
    expect(plainModernToolCall(request(ENVELOPE, { ...HEADERS, mcpNameHeader: 'speak' }))).toBeUndefined();
    expect(
      plainModernToolCall(request(ENVELOPE, { ...HEADERS, protocolVersionHeader: '2099-01-01' })),
    ).toBeUndefined();
    // Past the kept verdicts' bound, older ones make way and each envelope still gets its own.
    for (let client = 0; client < 200; client++) {
      const good = { ...ENVELOPE, [INFO]: { name: `client-${client}`, version: '1.0.0' } };
      const bad = { ...ENVELOPE, [INFO]: { name: `client-${client}` } };
      expect(plainModernToolCall(request(good))).toBeDefined();
      expect(plainModernToolCall(request(bad))).toBeUndefined();
    }
  });
});
