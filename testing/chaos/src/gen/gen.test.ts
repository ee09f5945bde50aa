import { describe, expect, it } from 'vitest';
import { describeInput, resolveTemplate, serialiseInput, type FuzzInput } from '../inputs.js';
import { Rng } from '../prng.js';
import type { JsonSchema, World } from './common.js';
import { generateInput } from './index.js';

const NO_PROPERTIES: Readonly<Record<string, JsonSchema>> = {};

const WORLD: World = {
  engine: 'offline',
  voices: [
    { id: 'slt', name: 'Sally' },
    { id: 'rms', name: 'Robert' },
  ],
  models: ['flite'],
  tools: [
    'speak',
    'stop_speaking',
    'list_voices',
    'update_settings',
    'replay',
    'text_to_speech',
    'speak_dialogue',
  ].map((name) => ({
    name,
    inputSchema: {
      type: 'object',
      properties:
        name === 'speak'
          ? {
              text: { type: 'string', minLength: 1 },
              wait: { type: 'string', enum: ['generated', 'played'] },
            }
          : NO_PROPERTIES,
      required: name === 'speak' ? ['text'] : [],
    },
  })),
};

function inputs(seed: number, count: number): FuzzInput[] {
  return Array.from({ length: count }, (_, index) => generateInput(seed, index, WORLD));
}

describe('fuzz input generation', () => {
  it('is a pure function of (seed, index): replaying input n needs nothing that ran before it', () => {
    const forward = inputs(7, 300).map(serialiseInput);
    const backward = Array.from({ length: 300 }, (_, i) => 299 - i).map((index) =>
      serialiseInput(generateInput(7, index, WORLD)),
    );
    expect(backward.reverse()).toEqual(forward);
    expect(inputs(8, 50).map(serialiseInput)).not.toEqual(forward.slice(0, 50));
  });

  it('reaches every REST route, every listed tool, MCP edge cases, player sessions and raw handshakes', () => {
    const all = inputs(1, 3000);
    const labels = all.map(describeInput).join('\n');
    for (const route of [
      '/api/v1/voices',
      '/api/v1/models',
      '/api/v1/library',
      'PUT /api/v1/settings',
      'GET /api/v1/settings',
      '/api/v1/speak',
      '/api/v1/stop',
      '/api/v1/history',
      '/history/:id/audio',
      '/history/:id/replay',
      'DELETE /api/v1/history/:id',
      '/api/v1/usage',
    ]) {
      expect(labels, route).toContain(route);
    }
    for (const tool of WORLD.tools) expect(labels).toContain(`tools/call ${tool.name}`);
    for (const label of [
      'mcp batch',
      'mcp initialize',
      'mcp notification',
      'mcp unknown method',
      'client hangs up',
      'cancelled by its user',
      'ws session',
      'ws raw handshake',
      'public GET /readyz',
    ]) {
      expect(labels).toContain(label);
    }
  });

  it('keeps most inputs authenticated and well-formed, so they reach deep code', () => {
    const all = inputs(3, 2000).filter((input) => input.kind === 'http' && input.channel === 'rest');
    const valid = all.filter(
      (input) =>
        input.kind === 'http' &&
        !input.label.includes(' +') &&
        input.headers.some(
          ([name, value]) => name === 'Authorization' && /^bearer {1,2}\{\{key:/i.test(value),
        ),
    );
    expect(valid.length / all.length).toBeGreaterThan(0.4);
  });

  it('never puts a key into an input itself: keys are templates resolved at send time', () => {
    const context = {
      port: 1234,
      keyOf: (user: string) => `esk_SECRET_${user}`,
      historyId: (n: number) => `sp_${n}`,
    };
    for (const input of inputs(5, 500)) {
      const text = JSON.stringify(serialiseInput(input));
      expect(text).not.toContain('esk_SECRET');
      expect(resolveTemplate('{{key:alice}} {{host}} {{hid:3}}', context)).toBe(
        'esk_SECRET_alice 127.0.0.1:1234 sp_3',
      );
    }
  });
});

describe('Rng', () => {
  it('gives the same stream for the same words and spreads values over the range', () => {
    const a = Rng.for(1, 2);
    const b = Rng.for(1, 2);
    const values = Array.from({ length: 1000 }, () => a.int(0, 9));
    expect(Array.from({ length: 1000 }, () => b.int(0, 9))).toEqual(values);
    for (let digit = 0; digit <= 9; digit++)
      expect(values.filter((v) => v === digit).length).toBeGreaterThan(60);
  });
});
