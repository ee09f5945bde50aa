import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import Fastify from 'fastify';
import { CONSOLE_DIR, registerStatic } from '../src/http/static.js';

const SCRIPT = fileURLToPath(new URL('../../web/scripts/bundle-size.mjs', import.meta.url));

describe('the built console (web/dist)', () => {
  it('stays within the first-load budget of 60 KB gzipped JS', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [SCRIPT]);
    const size = JSON.parse(stdout) as { jsGzipBytes: number; cssGzipBytes: number };
    expect(size.jsGzipBytes).toBeGreaterThan(1000);
    expect(size.jsGzipBytes).toBeLessThanOrEqual(60 * 1024);
  });

  it('has no inline scripts or styles (the server sends a strict CSP) and ships config.json', async () => {
    const html = await readFile(join(CONSOLE_DIR, 'index.html'), 'utf8');
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/<style|\sstyle=/);
    expect(html).toMatch(/<script type="module"[^>]*src="\.\/assets\/[^"]+\.js"/);
    const config = JSON.parse(await readFile(join(CONSOLE_DIR, 'config.json'), 'utf8')) as unknown;
    expect(config).toEqual({ apiBaseUrl: '' });
    const assets = await readdir(join(CONSOLE_DIR, 'assets'));
    expect(assets.some((name) => name.endsWith('.css'))).toBe(true);
  });

  it('the script fails a build over budget, and a missing build', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'earshot-dist-'));
    // Random bytes do not compress: 70 KB of them is over the budget gzipped too.
    await writeFile(join(dir, 'big.js'), randomBytes(70 * 1024));
    const run = (path: string) => promisify(execFile)(process.execPath, [SCRIPT, path]);
    await expect(run(dir)).rejects.toMatchObject({ code: 1 });
    await expect(run(join(dir, 'missing'))).rejects.toMatchObject({ code: 2 });
    await rm(dir, { recursive: true, force: true });
  });

  it('answers / with a 503 page that says to run npm run build when the console is not built', async () => {
    const app = Fastify();
    await registerStatic(app, '/nonexistent-earshot-dist');
    const response = await app.inject({ method: 'GET', url: '/' });
    expect(response.statusCode).toBe(503);
    expect(response.headers['content-type']).toContain('text/html');
    expect(response.body).toContain('npm run build');
    await app.close();
  });

  it('serves hashed assets as immutable and index.html for revalidation', async () => {
    const app = Fastify();
    await registerStatic(app);
    const page = await app.inject({ method: 'GET', url: '/' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['cache-control']).toBe('no-cache');
    const asset = /src="\.\/(assets\/[^"]+\.js)"/.exec(page.body)![1]!;
    const script = await app.inject({ method: 'GET', url: `/${asset}` });
    expect(script.statusCode).toBe(200);
    expect(script.headers['cache-control']).toContain('immutable');
    await app.close();
  });
});
