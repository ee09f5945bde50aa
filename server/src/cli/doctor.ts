import { access, mkdir, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { ConfigError, loadConfig, type Config } from '../config/env.js';
import { createEngine } from '../engines/index.js';
import { checkStore } from './doctor-store.js';
import { isEarshot } from './probe.js';

type Check = { ok: boolean; label: string; detail: string };

async function check(label: string, run: () => Promise<string>): Promise<Check> {
  try {
    return { ok: true, label, detail: await run() };
  } catch (error) {
    return { ok: false, label, detail: error instanceof Error ? error.message : String(error) };
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
  let config: Config | undefined;
  checks.push(
    await check('Configuration', async () => {
      config = loadConfig(env);
      return `listens on ${config.host}:${config.port}; public URL ${config.publicUrl ?? '(the listening URL)'}`;
    }),
  );
  if (config) {
    const c = config;
    checks.push(
      await check('Data directory', async () => {
        await mkdir(c.dataDir, { recursive: true });
        const probe = join(c.dataDir, `.doctor-${process.pid}`);
        await writeFile(probe, 'ok');
        await rm(probe);
        return `${c.dataDir} is writable`;
      }),
    );
    checks.push(await check('Store', () => checkStore(c.store)));
    checks.push(
      await check('API keys', async () => {
        if (c.keys.kind === 'hashes') return `${c.keys.entries.length} user(s) from EARSHOT_API_KEYS`;
        if (c.keys.kind === 'raw') return 'one key from EARSHOT_API_KEY';
        return (await access(c.keys.file).then(
          () => true,
          () => false,
        ))
          ? `saved key in ${c.keys.file}`
          : `none yet: one will be generated and saved in ${c.keys.file} at first start`;
      }),
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
        if (await isEarshot(url)) return `an Earshot server already answers at ${url}`;
        if (await portFree(c.host, c.port)) return `${c.host}:${c.port} is free`;
        throw new ConfigError(`${c.host}:${c.port} is taken by another program: set PORT to a free port`);
      }),
    );
  }
  for (const { ok, label, detail } of checks)
    process.stdout.write(`${ok ? 'ok  ' : 'FAIL'}  ${label}: ${detail}\n`);
  const failed = checks.filter((c) => !c.ok).length;
  process.stdout.write(
    failed === 0 ? '\nAll good: run "earshot serve" (npm start).\n' : `\n${failed} problem(s) to fix.\n`,
  );
  return failed === 0;
}
