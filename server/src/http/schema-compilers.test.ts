import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { lazySchemaCompilers } from './schema-compilers.js';

const CHILD = fileURLToPath(new URL('../../test/support/loaded-modules-child.ts', import.meta.url));

describe('Fastify schema compilers, loaded only when a route needs one', () => {
  it('a route that declares schemas still gets them checked and serialized', async () => {
    const app = Fastify({ schemaController: { compilersFactory: lazySchemaCompilers } });
    app.post(
      '/echo',
      {
        schema: {
          body: { type: 'object', properties: { n: { type: 'integer' } }, required: ['n'] },
          response: { 200: { type: 'object', properties: { n: { type: 'integer' } } } },
        },
      },
      async (request) => ({ ...(request.body as object), secret: 'not in the schema' }),
    );
    const refused = await app.inject({ method: 'POST', url: '/echo', payload: { n: 'one' } });
    expect(refused.statusCode).toBe(400);
    const answered = await app.inject({ method: 'POST', url: '/echo', payload: { n: 1 } });
    expect(answered.json()).toEqual({ n: 1 });
    await app.close();
  });

  it('a running Earshot, having answered MCP and REST calls, has loaded neither', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'earshot-modules-'));
    try {
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
      const { mcp, rest, modules } = JSON.parse(stdout) as { mcp: number; rest: number; modules: string[] };
      expect([mcp, rest]).toEqual([200, 200]);
      // The check can see CommonJS packages: Fastify itself is one.
      expect(modules.some((path) => path.includes('/node_modules/fastify/'))).toBe(true);
      // (Fastify's error serializer is prebuilt: it needs only fast-json-stringify's small runtime, lib/serializer.)
      const compilers =
        /\/(@fastify\/ajv-compiler|@fastify\/fast-json-stringify-compiler|fast-json-stringify\/index\.js|ajv\/dist\/jtd)/;
      expect(modules.filter((path) => compilers.test(path))).toEqual([]);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
