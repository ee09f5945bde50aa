import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectOneClearMessage, freePort, runCli, startCli, unwritableFolder } from './support/cli.js';

const asRoot = process.getuid?.() === 0;
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe(
  'start-up failures: one clear message and an exit code, never a Node stack',
  { timeout: 120_000 },
  () => {
    let dir: string;
    let unwritable: string;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'earshot-startup-'));
      unwritable = await unwritableFolder();
    });
    afterAll(async () => {
      await rm(dir, { recursive: true, force: true });
      if (unwritable !== '/sys') await rm(unwritable, { recursive: true, force: true });
    });

    it('port taken by another program: says so and suggests PORT, exit 1', async () => {
      // Another program on the port: it hangs up on whoever connects (Earshot's probe for itself included).
      const blocker: Server = createServer((socket) => socket.destroy());
      await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
      const port = (blocker.address() as { port: number }).port;
      try {
        const result = await runCli(['serve'], { PORT: String(port), EARSHOT_DATA_DIR: join(dir, 'port') });
        expect(result.code).toBe(1);
        expectOneClearMessage(result);
        expect(result.stderr).toContain(`Port ${port} is taken by another program (127.0.0.1:${port}).`);
        expect(result.stderr).toMatch(/set PORT to a free port, e\.g\. PORT=\d+/);
      } finally {
        await new Promise((resolve) => blocker.close(resolve));
      }
    });

    it('started twice (npm start twice): says an Earshot server already runs at its URL, exit 1', async () => {
      const first = await startCli({ EARSHOT_DATA_DIR: join(dir, 'twice') });
      try {
        const port = new URL(first.url).port;
        const second = await runCli(['serve'], { PORT: port, EARSHOT_DATA_DIR: join(dir, 'twice') });
        expect(second.code).toBe(1);
        expectOneClearMessage(second);
        expect(second.stderr).toContain(
          `An Earshot server is already running at ${first.url}: open ${first.url}/`,
        );
        expect(second.stderr).toMatch(/set PORT to a free port, e\.g\. PORT=\d+ npm start/);
      } finally {
        first.child.kill('SIGTERM');
        expect(await first.exited).toBe(0);
      }
    });

    it('data directory that is a file: names it and EARSHOT_DATA_DIR, exit 1 (generated key and raw key alike)', async () => {
      const file = join(dir, 'not-a-folder');
      await writeFile(file, 'x');
      const generated = await runCli(['serve'], { PORT: '0', EARSHOT_DATA_DIR: file });
      expect(generated.code).toBe(1);
      expectOneClearMessage(generated);
      expect(generated.stderr).toContain(`Cannot open ${file}/api-key: part of that path is a file`);
      expect(generated.stderr).toContain(`EARSHOT_DATA_DIR (now ${file};`);
      const raw = await runCli(['serve'], {
        PORT: '0',
        EARSHOT_DATA_DIR: file,
        EARSHOT_API_KEY: 'a-key-of-at-least-16-characters',
      });
      expect(raw.code).toBe(1);
      expectOneClearMessage(raw);
      expect(raw.stderr).toContain(`Cannot create the folder ${file}: a file with that name is in the way.`);
    });

    it('data directory that cannot be created: permission denied and what to set, exit 1', async () => {
      const dataDir = join(unwritable, 'earshot-data');
      const result = await runCli(['serve'], { PORT: '0', EARSHOT_DATA_DIR: dataDir });
      expect(result.code).toBe(1);
      expectOneClearMessage(result);
      expect(result.stderr).toMatch(
        new RegExp(
          `^Cannot create the folder ${escape(dataDir)}: (permission denied|the file system is read-only)\\.`,
        ),
      );
      expect(result.stderr).toContain('set it to a folder you can write');
    });

    it.skipIf(asRoot)(
      'key file that cannot be read: permission denied, exit 1 (root reads anything)',
      async () => {
        const dataDir = join(dir, 'unreadable');
        await mkdir(dataDir);
        await writeFile(join(dataDir, 'api-key'), 'esk_unreadable_key_0123456789\n', { mode: 0o000 });
        const result = await runCli(['serve'], { PORT: '0', EARSHOT_DATA_DIR: dataDir });
        await chmod(join(dataDir, 'api-key'), 0o600);
        expect(result.code).toBe(1);
        expectOneClearMessage(result);
        expect(result.stderr).toContain(`Cannot open ${join(dataDir, 'api-key')}: permission denied.`);
      },
    );

    it('HOST that cannot be an address: a configuration error, exit 2', async () => {
      for (const host of ['not a host', '999.1.1.1']) {
        const result = await runCli(['serve'], {
          HOST: host,
          PORT: '0',
          EARSHOT_DATA_DIR: join(dir, 'host'),
        });
        expect(result.code, host).toBe(2);
        expect(result.stderr).toMatch(/^Invalid environment:\n {2}HOST: must be an IP address/);
        expectOneClearMessage(result);
      }
    });

    it('HOST that is not an address of this machine (EADDRNOTAVAIL): says so, exit 1', async () => {
      // 192.0.2.1 is TEST-NET-1: reserved for documentation, on no machine's interface.
      const result = await runCli(['serve'], {
        HOST: '192.0.2.1',
        PORT: '0',
        EARSHOT_DATA_DIR: join(dir, 'host'),
      });
      expect(result.code).toBe(1);
      expectOneClearMessage(result);
      expect(result.stderr).toMatch(/^HOST 192\.0\.2\.1 is not an address of this machine/);
    });

    it('earshot mcp in a folder it cannot write (it keeps .earshot there): says so, exit 1', async () => {
      const port = await freePort();
      const result = await runCli(['mcp'], { PORT: String(port) }, { cwd: unwritable });
      expect(result.code).toBe(1);
      expectOneClearMessage(result);
      expect(result.stderr).toMatch(
        new RegExp(
          `^Cannot create the folder ${escape(join(unwritable, '.earshot'))}: (permission denied|the file system is read-only)`,
        ),
      );
      expect(result.stderr).toContain('or run from one');
    });

    it('an unexpected failure: a short message, and the stack only with EARSHOT_LOG_LEVEL=debug, exit 1', async () => {
      // A data directory that is a symlink loop fails with ELOOP, which has no message of its own.
      const loop = join(dir, 'loop');
      await symlink(loop, loop);
      const quiet = await runCli(['serve'], { PORT: '0', EARSHOT_DATA_DIR: loop });
      expect(quiet.code).toBe(1);
      expectOneClearMessage(quiet);
      expect(quiet.stderr).toMatch(/^earshot failed: ELOOP[^\n]*\nRun with EARSHOT_LOG_LEVEL=debug/);
      const debug = await runCli(['serve'], {
        PORT: '0',
        EARSHOT_DATA_DIR: loop,
        EARSHOT_LOG_LEVEL: 'debug',
      });
      expect(debug.code).toBe(1);
      expect(debug.stderr).toMatch(/^earshot failed: ELOOP/);
      expect(debug.stderr).toMatch(/^\s+at .*loadOrCreateLocalKey/m);
    });
  },
);
