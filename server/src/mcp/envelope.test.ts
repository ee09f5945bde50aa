import { specTypeSchemas } from '@modelcontextprotocol/server';
import { describe, expect, it, vi } from 'vitest';
import { invalidRequestParams } from './envelope.js';
import { PROGRESS_TOKEN_METAS } from '../../test/support/request-meta.js';

const RELATED_TASK = 'io.modelcontextprotocol/related-task';
const NAMES: unknown[] = ['speak', '', 7, null, undefined, {}, ['speak']];
const ARGUMENTS: unknown[] = [
  undefined,
  {},
  { text: 'Hello.' },
  { text: 'Hello.', nested: { deep: [1, null] } },
  null,
  [],
  ['text'],
  'text',
  7,
  Object.create(null) as unknown,
  new Date(0),
];
const METAS: unknown[] = [
  ...PROGRESS_TOKEN_METAS,
  { traceparent: '00-abc-def-01', other: [1, null] },
  { [RELATED_TASK]: { taskId: 't' } },
  { [RELATED_TASK]: {} },
  { [RELATED_TASK]: undefined },
  { 'io.modelcontextprotocol/protocolVersion': '2026-07-28' },
  null,
  [],
  'meta',
];
const TASKS: unknown[] = [undefined, { ttl: 1000 }, {}, 'task', null];
const EXTRA: Record<string, unknown>[] = [{}, { other: 1 }, { cursor: 'c' }];

function* toolCalls(): Generator<unknown> {
  for (const name of NAMES)
    for (const args of ARGUMENTS)
      for (const meta of METAS)
        for (const task of TASKS)
          for (const extra of EXTRA) {
            const params: Record<string, unknown> = { ...extra };
            if (name !== undefined) params.name = name;
            if (args !== undefined) params.arguments = args;
            if (meta !== undefined) params._meta = meta;
            if (task !== undefined) params.task = task;
            yield { jsonrpc: '2.0', id: 1, method: 'tools/call', params };
          }
  for (const params of [undefined, null, [], 'speak', 7, Object.create(null) as unknown])
    yield { jsonrpc: '2.0', id: 1, method: 'tools/call', params };
}

/** What the SDK's own schema says of a tools/call: no issues, or some. */
function schemaAccepts(message: unknown): boolean {
  const result = specTypeSchemas.CallToolRequest['~standard'].validate(message);
  if (result instanceof Promise) throw new Error('the schema is asynchronous');
  return !result.issues?.length;
}

describe('invalidRequestParams on tools/call', () => {
  it('refuses exactly what the SDK schema refuses, whichever way it gets there', () => {
    let accepted = 0;
    let refused = 0;
    for (const message of toolCalls()) {
      const invalid = invalidRequestParams(message);
      expect({ message, refused: invalid !== undefined }).toEqual({
        message,
        refused: !schemaAccepts(message),
      });
      if (invalid === undefined) accepted++;
      else refused++;
    }
    // Both sides are exercised: many calls pass, many do not.
    expect(accepted).toBeGreaterThan(100);
    expect(refused).toBeGreaterThan(1000);
  });

  it('recognises plain calls without asking the schema', () => {
    const asked = vi.spyOn(specTypeSchemas.CallToolRequest['~standard'], 'validate');
    try {
      for (const params of [
        { name: 'speak', arguments: { text: 'Hello.' } },
        { name: 'speak', arguments: { text: 'Hello.' }, _meta: { progressToken: 3 } },
        { name: 'get_settings' },
        { name: 'speak', arguments: {}, _meta: { progressToken: 'p', traceparent: 't' } },
      ])
        expect(invalidRequestParams({ jsonrpc: '2.0', id: 1, method: 'tools/call', params })).toBeUndefined();
      expect(asked).not.toHaveBeenCalled();
      // And what it does not recognise still goes to the schema (and is refused with its words).
      expect(
        invalidRequestParams({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 7 } }),
      ).toMatch(/^tools\/call: params\.name: /);
      expect(asked).toHaveBeenCalledTimes(1);
    } finally {
      asked.mockRestore();
    }
  });
});
