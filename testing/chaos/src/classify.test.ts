import { describe, expect, it } from 'vitest';
import { HistoryPool, inspectHttp, type HttpResult } from './classify.js';
import { parseResponse } from './http-raw.js';
import { KeyScanner, makeKeys } from './keys.js';
import { Tally } from './tally.js';

const keys = makeKeys();
const scanner = new KeyScanner(keys);

function answer(status: number, body: string, contentType = 'application/json'): HttpResult {
  const head = `HTTP/1.1 ${status} X\r\ncontent-type: ${contentType}\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n`;
  const raw = Buffer.from(head + body);
  const parsed = parseResponse(raw)!;
  return { outcome: 'response', status: parsed.status, headers: parsed.headers, body: parsed.body, raw };
}

function classify(
  request: { method?: string; path?: string; channel?: string; foreignOrigin?: boolean },
  response: HttpResult,
): Tally {
  const tally = new Tally('t');
  inspectHttp(
    { tally, scanner, pool: new HistoryPool() },
    { method: 'GET', path: '/api/v1/x', ...request },
    response,
  );
  return tally;
}

describe('classification', () => {
  it('counts a documented upstream refusal apart from 5xx, and a 500 or "internal" as 5xx', () => {
    const refusal = classify(
      {},
      answer(502, '{"error":{"code":"upstream_error","message":"ElevenLabs failed"}}'),
    );
    expect(refusal.counts['5xx']).toBe(0);
    expect(Object.fromEntries(refusal.refusalCodes)).toEqual({ upstream_error: 1 });
    expect(classify({}, answer(500, '{"error":{"code":"internal","message":"x"}}')).counts['5xx']).toBe(1);
    expect(classify({}, answer(503, '{"error":{"code":"made_up","message":"x"}}')).counts['5xx']).toBe(1);
    expect(classify({ path: '/readyz' }, answer(503, '{"status":"not_ready"}')).counts['5xx']).toBe(0);
  });

  it('finds JSON-RPC internal errors and [internal] tool results in MCP answers (SSE or JSON)', () => {
    const sse = (payload: unknown) =>
      answer(200, `event: message\ndata: ${JSON.stringify(payload)}\n\n`, 'text/event-stream');
    expect(
      classify({ channel: 'mcp' }, sse({ jsonrpc: '2.0', id: 1, error: { code: -32603, message: 'boom' } }))
        .counts['5xx'],
    ).toBe(1);
    const toolInternal = {
      jsonrpc: '2.0',
      id: 1,
      result: { isError: true, content: [{ type: 'text', text: 'Broke. [internal]' }] },
    };
    expect(classify({ channel: 'mcp' }, sse(toolInternal)).counts['5xx']).toBe(1);
    const toolBusy = {
      jsonrpc: '2.0',
      id: 1,
      result: { isError: true, content: [{ type: 'text', text: 'Busy. [upstream_busy]' }] },
    };
    const busy = classify({ channel: 'mcp' }, sse(toolBusy));
    expect([busy.counts['5xx'], busy.refusalCodes.get('upstream_busy')]).toEqual([0, 1]);
    expect(
      classify({ channel: 'mcp' }, sse({ jsonrpc: '2.0', id: 1, error: { code: -32602, message: 'bad' } }))
        .counts['5xx'],
    ).toBe(0);
  });

  it('finds keys (raw, base64url, a long prefix) and stack traces, but not an echoed source path', () => {
    const key = keys.byUser.alice;
    expect(classify({}, answer(400, `{"m":"${key}"}`)).counts.key).toBeGreaterThan(0);
    expect(
      classify({}, answer(400, `{"m":"${Buffer.from(key).toString('base64url')}"}`)).counts.key,
    ).toBeGreaterThan(0);
    expect(classify({}, answer(400, `{"m":"${keys.elevenLabs.slice(0, 20)}…"}`)).counts.key).toBeGreaterThan(
      0,
    );
    expect(
      classify({}, answer(400, 'Error: x\n    at f (/app/server/dist/a.js:1:2)', 'text/plain')).counts.stack,
    ).toBe(1);
    expect(
      classify({}, answer(404, '{"message":"No route GET /server/dist/cli/main.js"}')).counts.stack,
    ).toBe(0);
    expect(scanner.redact(`a ${key} b`)).toBe('a <earshot key of alice> b');
  });

  it('counts a missing answer as a hang and a 2xx to a foreign Origin on /api as a policy break', () => {
    const hang = classify(
      {},
      { outcome: 'timeout', status: 0, headers: {}, body: Buffer.alloc(0), raw: Buffer.alloc(0) },
    );
    expect(hang.counts.hang).toBe(1);
    expect(
      classify({ path: '/%61pi/v1/settings', channel: 'rest', foreignOrigin: true }, answer(200, '{}')).counts
        .policy,
    ).toBe(1);
    expect(
      classify({ path: '/api/v1/settings', channel: 'rest', foreignOrigin: true }, answer(403, '{}')).counts
        .policy,
    ).toBe(0);
  });
});

describe('parseResponse', () => {
  it('knows when a chunked or sized answer is complete, and skips 100 Continue', () => {
    const chunked = Buffer.from(
      'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n',
    );
    expect(parseResponse(chunked)).toMatchObject({ status: 200, complete: true });
    expect(parseResponse(chunked)!.body.toString()).toBe('abcde');
    expect(parseResponse(chunked.subarray(0, chunked.length - 5))!.complete).toBe(false);
    const sized = Buffer.from(
      'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 404 Not Found\r\ncontent-length: 2\r\n\r\n{}',
    );
    expect(parseResponse(sized)).toMatchObject({ status: 404, complete: true });
  });
});
