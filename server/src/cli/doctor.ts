import { constants } from 'node:fs';
import { access, mkdir, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { ConfigError, loadConfig, type Config } from '../config/env.js';
import { createEngine } from '../engines/index.js';
import { compileCacheStatus } from './compile-cache.js';
import { checkStore } from './doctor-store.js';
import { explainError } from './errors.js';
import { isEarshot } from './probe.js';
import { describeBuild } from './running-build.js';

type Check = { ok: boolean; label: string; detail: string };

/** Runs one check; a failure reads as the CLI's own errors do (what failed, what to do), not a raw errno. */
async function check(label: string, run: () => Promise<string>, dataDir?: string): Promise<Check> {
  try {
    return { ok: true, label, detail: await run() };
  } catch (error) {
    const explained = explainError(error, { dataDir });
    const detail = explained.known
      ? explained.message
      : error instanceof Error
        ? error.message
        : String(error);
    return { ok: false, label, detail: detail.replaceAll('\n', '\n      ') };
  }
}

function portFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, host, () => probe.close(() => resolve(true)));
  });
}

/** `earshot doctor`: checks what `earshot serve` needs and says what to fix. Exit 1 if anything fails. */
export async function doctor(env: NodeJS.ProcessEnv): Promise<boolean> {
  const checks: Check[] = [];
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
  checks.push({
    ok: major > 22 || (major === 22 && minor >= 13),
    label: 'Node.js',
    detail: `${process.version} (needs 22.13 or newer; 24 LTS recommended)`,
  });
  // Information, never a failure: without the cache a start is only slower.
  checks.push({ ok: true, label: 'Start-up cache', detail: compileCacheStatus(env) });
  checks.push({ ok: true, label: 'Running', detail: describeBuild() });
  let config: Config | undefined;
  checks.push(
    await check('Configuration', async () => {
      config = loadConfig(env);
      return `listens on ${config.host}:${config.port}; public URL ${config.publicUrl ?? '(the listening URL)'}`;
    }),
  );
  /** Where an Earshot already answers, when one does: then "earshot serve" would find its port taken. */
  let runningAt: string | undefined;
  if (config) {
    const c = config;
    const dataDir = await check(
      'Data directory',
      async () => {
        await mkdir(c.dataDir, { recursive: true });
        const probe = join(c.dataDir, `.doctor-${process.pid}`);
        await writeFile(probe, 'ok');
        await rm(probe);
        return `${c.dataDir} is writable`;
      },
      c.dataDir,
    );
    checks.push(dataDir);
    checks.push(
      await check(
        'Store',
        async () => {
          // The database lives in that folder: one explanation of what is wrong with it is enough.
          if (c.store.kind === 'sqlite' && !dataDir.ok)
            throw new ConfigError('cannot be opened until the data directory is fixed');
          return checkStore(c.store);
        },
        c.dataDir,
      ),
    );
    checks.push(
      await check(
        'API keys',
        async () => {
          if (c.keys.kind === 'hashes') return `${c.keys.entries.length} user(s) from EARSHOT_API_KEYS`;
          if (c.keys.kind === 'raw') return 'one key from EARSHOT_API_KEY';
          const file = c.keys.file;
          const exists = await access(file).then(
            () => true,
            () => false,
          );
          // A saved key must be readable; a missing one must be writable, in the folder checked above.
          if (exists) {
            await access(file, constants.R_OK);
            return `saved key in ${file} (show it with: cat ${file})`;
          }
          if (!dataDir.ok)
            throw new ConfigError(
              `no key yet, and none can be saved in ${file} until the data directory is fixed`,
            );
          return `none yet: one will be generated and saved in ${file} at first start`;
        },
        c.dataDir,
      ),
    );
    checks.push(
      await check(c.engine.kind === 'elevenlabs' ? 'ElevenLabs' : 'Offline voice', async () => {
        const engine = createEngine(c.engine, { maxRetries: 0 });
        try {
          if (engine.getSubscription) {
            const account = await engine.getSubscription();
            return `key accepted: ${account.tier}, ${account.creditsUsed} of ${account.creditLimit} credits used`;
          }
          const stream = await engine.synthesize(
            { text: 'Test.', voiceId: (await engine.listVoices())[0]!.id },
            AbortSignal.timeout(20_000),
          );
          let bytes = 0;
          for await (const event of stream.events) if (event.type === 'audio') bytes += event.data.byteLength;
          return `Flite works (${bytes} bytes of speech for "Test.")`;
        } finally {
          await engine.close();
        }
      }),
    );
    checks.push(
      await check('Port', async () => {
        const url = `http://${['0.0.0.0', '::'].includes(c.host) ? '127.0.0.1' : c.host}:${c.port}`;
        if (await isEarshot(url)) {
          runningAt = url;
          return `taken by an Earshot server that already runs at ${url}`;
        }
        if (await portFree(c.host, c.port)) return `${c.host}:${c.port} is free`;
        throw new ConfigError(`${c.host}:${c.port} is taken by another program: set PORT to a free port`);
      }),
    );
  }
  for (const { ok, label, detail } of checks)
    process.stdout.write(`${ok ? 'ok  ' : 'FAIL'}  ${label}: ${detail}\n`);
  const failed = checks.filter((c) => !c.ok).length;
  if (failed > 0) process.stdout.write(`\n${failed} problem(s) to fix.\n`);
  else if (runningAt)
    process.stdout.write(
      `\nEarshot is already running at ${runningAt}: open ${runningAt}/ in your browser.\n` +
        'To start another one, stop it first or set PORT to a free port.\n',
    );
  else process.stdout.write('\nAll good: run "earshot serve" (npm start).\n');
  return failed === 0;
}
