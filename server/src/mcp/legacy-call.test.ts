import { classifyInboundRequest, type InboundHttpRequest } from '@modelcontextprotocol/server';
import { describe, expect, it } from 'vitest';
import { claimsModernRevision, isPlainLegacyToolCall } from './legacy-call.js';
import { PROGRESS_TOKEN_METAS } from '../../test/support/request-meta.js';

const CALL = { name: 'speak', arguments: { text: 'Hello.' } };
const CLAIM = 'io.modelcontextprotocol/protocolVersion';
const MODERN_ENVELOPE = {
  [CLAIM]: '2026-07-28',
  'io.modelcontextprotocol/clientInfo': { name: 'client', version: '1.0.0' },
  'io.modelcontextprotocol/clientCapabilities': {},
};

const IDS: unknown[] = [1, 0, -0, -7, 2 ** 53 - 1, -(2 ** 53 - 1), 2 ** 53, 1.5, -0.25, 1e300];
IDS.push('a', '', ' ', '0', null, true, {}, [], [1], undefined);
const JSONRPC: unknown[] = ['2.0', '1.0', 2, '2.0 ', undefined];
const METHODS: unknown[] = [
  'tools/call',
  'tools/list',
  'initialize',
  'notifications/cancelled',
  'Tools/call',
  1,
  undefined,
];
const METAS: unknown[] = [
  ...PROGRESS_TOKEN_METAS,
  { progressToken: 'p', traceparent: '00-abc-def-01', tracestate: 'x', baggage: 'y', other: [1, null] },
  { [CLAIM]: '2026-07-28' },
  { [CLAIM]: '2025-06-18' },
  { [CLAIM]: '2025-11-25' },
  { [CLAIM]: 'garbage' },
  { [CLAIM]: '' },
  { [CLAIM]: 42 },
  { [CLAIM]: null },
  { [CLAIM]: undefined },
  MODERN_ENVELOPE,
  { ...MODERN_ENVELOPE, progressToken: 'p' },
  { ...MODERN_ENVELOPE, [CLAIM]: '2099-01-01' },
  { 'io.modelcontextprotocol/clientInfo': { name: 'client', version: '1.0.0' } },
  { 'io.modelcontextprotocol/clientInfo': 'garbage' },
  { 'io.modelcontextprotocol/clientCapabilities': {} },
  { 'io.modelcontextprotocol/logLevel': 'info' },
  { 'io.modelcontextprotocol/logLevel': 5 },
  { 'io.modelcontextprotocol/related-task': { taskId: 't' } },
  { 'io.modelcontextprotocol/related-task': {} },
  { 'io.modelcontextprotocol/subscriptionId': 's' },
  { 'io.modelcontextprotocol/serverInfo': { name: 'server', version: '1' } },
  { 'io.modelcontextprotocol/unknown': true },
  null,
  [],
  'meta',
  7,
];
const PARAMS: unknown[] = [
  ...METAS.map((meta) => (meta === undefined ? CALL : { ...CALL, _meta: meta })),
  undefined,
  null,
  [],
  [CALL],
  'speak',
  {},
  { name: 'speak' },
  { name: 7, arguments: 'x' },
];
const EXTRA_KEYS: Record<string, unknown>[] = [
  {},
  { result: {} },
  { error: { code: 1, message: 'm' } },
  { extra: 1 },
];

/** A body from one choice per dimension; an undefined choice leaves the key out. */
function message(
  id: unknown,
  jsonrpc: unknown,
  method: unknown,
  params: unknown,
  extra: Record<string, unknown>,
) {
  const body: Record<string, unknown> = { ...extra };
  for (const [key, value] of Object.entries({ jsonrpc, id, method, params }))
    if (value !== undefined) body[key] = value;
  return body;
}

const SINGLE_BODIES = IDS.flatMap((id) =>
  JSONRPC.flatMap((jsonrpc) =>
    METHODS.flatMap((method) =>
      PARAMS.flatMap((params) => EXTRA_KEYS.map((extra) => message(id, jsonrpc, method, params, extra))),
    ),
  ),
);
const plainCall = { jsonrpc: '2.0', id: 1, method: 'tools/call', params: CALL };
/** Bodies that are not single requests, each whole. */
const OTHER_BODIES: unknown[] = [
  [plainCall],
  [plainCall, { ...plainCall, id: 2 }],
  [],
  [{ ...plainCall, params: { ...CALL, _meta: MODERN_ENVELOPE } }],
  { jsonrpc: '2.0', id: 1, result: {} },
  { jsonrpc: '2.0', id: 1, error: { code: -32600, message: 'no' } },
  { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 1 } },
  { jsonrpc: '2.0', method: 'tools/call', params: CALL },
  null,
  undefined,
  'tools/call',
  42,
  Object.assign(Object.create({ [CLAIM]: '2026-07-28' }) as object, { progressToken: 'p' }),
];

const VERSION_HEADERS = [undefined, '2025-11-25', '2025-06-18', '2025-03-26', '2024-11-05', '2026-07-28'];
VERSION_HEADERS.push(
  ' 2025-06-18 ',
  '\t2025-06-18',
  ' 2026-07-28',
  '2025-06-18, 2025-06-18',
  'unknown',
  '',
  '2099-01-01',
);
const METHOD_HEADERS = [undefined, 'tools/call', ' tools/call', 'tools/list'];
const NAME_HEADERS = [undefined, 'speak', 'other'];
const HTTP_METHODS = ['POST', 'post', 'GET'];

/** Every combination of the headers and HTTP method, around a body. */
function withAllHeaders(body: unknown): InboundHttpRequest[] {
  return HTTP_METHODS.flatMap((httpMethod) =>
    VERSION_HEADERS.flatMap((protocolVersionHeader) =>
      METHOD_HEADERS.flatMap((mcpMethodHeader) =>
        NAME_HEADERS.map((mcpNameHeader) => ({
          httpMethod,
          body,
          protocolVersionHeader,
          mcpMethodHeader,
          mcpNameHeader,
        })),
      ),
    ),
  );
}

/**
 * The corpus: every header combination around bodies that vary one thing from a plain call (so each header meets
 * each single variation), and every body combination with no headers, a 2025 revision's, and headers picked by a
 * fixed pseudo-random sequence.
 */
function corpus(): InboundHttpRequest[] {
  const plainMeta = { ...plainCall, params: { ...CALL, _meta: { progressToken: 'p' } } };
  const oneVariation = [
    plainCall,
    plainMeta,
    ...IDS.map((id) => message(id, '2.0', 'tools/call', CALL, {})),
    ...JSONRPC.map((jsonrpc) => message(1, jsonrpc, 'tools/call', CALL, {})),
    ...METHODS.map((method) => message(1, '2.0', method, CALL, {})),
    ...PARAMS.map((params) => message(1, '2.0', 'tools/call', params, {})),
    ...EXTRA_KEYS.map((extra) => message(1, '2.0', 'tools/call', CALL, extra)),
    ...OTHER_BODIES,
  ];
  const headerSets = withAllHeaders(undefined);
  let seed = 1;
  const pick = () => {
    seed = (seed * 48_271) % 2_147_483_647;
    return headerSets[seed % headerSets.length]!;
  };
  const plain = { httpMethod: 'POST' };
  const legacyHeader = { httpMethod: 'POST', protocolVersionHeader: '2025-06-18' };
  return [
    ...oneVariation.flatMap(withAllHeaders),
    ...SINGLE_BODIES.flatMap((body) =>
      [plain, legacyHeader, pick()].map((headers) => ({ ...headers, body })),
    ),
  ];
}

describe('isPlainLegacyToolCall', () => {
  it('says legacy only where the SDK classifies a legacy request (no envelope claim)', () => {
    const requests = corpus();
    const recognised = requests.filter((request) => isPlainLegacyToolCall(request));
    const wrong = recognised.filter((request) => {
      const outcome = classifyInboundRequest(request);
      return outcome.kind !== 'legacy' || outcome.reason !== 'no-claim';
    });
    expect(wrong.slice(0, 5), `${wrong.length} wrongly recognised`).toEqual([]);
    // The corpus reaches both sides: many calls recognised, many more left to the SDK.
    expect(recognised.length).toBeGreaterThan(200);
    expect(requests.length - recognised.length).toBeGreaterThan(10_000);
  });

  it('recognises the plain calls of 2025-era clients', () => {
    const bodies = [
      plainCall,
      { ...plainCall, id: 'call-1' },
      { ...plainCall, id: 0 },
      { ...plainCall, id: '' },
      { ...plainCall, id: -3 },
      { id: 9, params: CALL, method: 'tools/call', jsonrpc: '2.0' },
      { ...plainCall, params: { ...CALL, _meta: { progressToken: 'p' } } },
      { ...plainCall, params: { ...CALL, _meta: { progressToken: 7, traceparent: '00-abc-def-01' } } },
      { ...plainCall, params: { name: 'speak' } },
    ];
    for (const body of bodies) {
      for (const protocolVersionHeader of [undefined, '2025-11-25', '2025-06-18', '2025-03-26']) {
        const request = { httpMethod: 'POST', body, protocolVersionHeader };
        expect(isPlainLegacyToolCall(request), JSON.stringify(request)).toBe(true);
        expect(classifyInboundRequest(request)).toMatchObject({ kind: 'legacy', reason: 'no-claim' });
      }
    }
  });

  it('leaves to the SDK what a modern client sends and what is not one plain request', () => {
    const modern = { ...plainCall, params: { ...CALL, _meta: MODERN_ENVELOPE } };
    const refused: InboundHttpRequest[] = [
      { httpMethod: 'POST', body: modern, protocolVersionHeader: '2026-07-28' },
      { httpMethod: 'POST', body: modern },
      { httpMethod: 'POST', body: plainCall, protocolVersionHeader: '2026-07-28' },
      { httpMethod: 'POST', body: plainCall, protocolVersionHeader: 'unknown' },
      { httpMethod: 'POST', body: plainCall, mcpMethodHeader: 'tools/call' },
      { httpMethod: 'POST', body: [plainCall] },
      { httpMethod: 'POST', body: { ...plainCall, id: 1.5 } },
      { httpMethod: 'POST', body: { ...plainCall, id: null } },
      { httpMethod: 'POST', body: { ...plainCall, extra: true } },
      { httpMethod: 'POST', body: { ...plainCall, params: [CALL] } },
      { httpMethod: 'GET', body: plainCall },
    ];
    for (const request of refused)
      expect(isPlainLegacyToolCall(request), JSON.stringify(request)).toBe(false);
  });
});

describe('claimsModernRevision', () => {
  it('says modern only where the SDK does not classify the request as legacy', () => {
    const requests = corpus();
    const claimed = requests.filter((request) => claimsModernRevision(request));
    const wrong = claimed.filter((request) => classifyInboundRequest(request).kind === 'legacy');
    expect(wrong.slice(0, 5), `${wrong.length} wrongly claimed`).toEqual([]);
    // The corpus reaches both sides: many claims recognised, and plain 2025 calls (legacy) left alone.
    expect(claimed.length).toBeGreaterThan(1000);
    const plainLeft = requests.filter(
      (request) => !claimsModernRevision(request) && isPlainLegacyToolCall(request),
    );
    expect(plainLeft.length).toBeGreaterThan(200);
  });

  it('recognises what a 2026-07-28 client sends, and never a 2025 call', () => {
    const modern = { ...plainCall, params: { ...CALL, _meta: MODERN_ENVELOPE } };
    const headers = { mcpMethodHeader: 'tools/call', mcpNameHeader: 'speak' };
    expect(
      claimsModernRevision({
        httpMethod: 'POST',
        body: modern,
        protocolVersionHeader: '2026-07-28',
        ...headers,
      }),
    ).toBe(true);
    expect(claimsModernRevision({ httpMethod: 'POST', body: modern })).toBe(true);
    for (const protocolVersionHeader of [undefined, '2025-11-25', '2025-06-18', '2025-03-26'])
      expect(claimsModernRevision({ httpMethod: 'POST', body: plainCall, protocolVersionHeader })).toBe(
        false,
      );
  });
});
