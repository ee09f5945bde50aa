/**
 * Runs the rendered nginx config with the machine's real nginx, unprivileged-style: its own prefix, logs, temp
 * folders and pid under a temporary folder, listening on 127.0.0.1 only. For tests and local experiments.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import {
  ORIGIN_VERIFY_HEADER,
  proxyAssetsDir,
  renderNginxConfig,
  renderOriginVerifyConfig,
  type NginxRuntime,
  type ProxyRenderOptions,
} from '../render.js';

const run = promisify(execFile);
export const nginxBinary = process.env.EARSHOT_TEST_NGINX ?? '/usr/sbin/nginx';
export const upstreamsScript = fileURLToPath(new URL('earshot-upstreams.sh', proxyAssetsDir));
export const routeKeyScript = fileURLToPath(new URL('earshot-route-key.py', proxyAssetsDir));

export interface RouteKeyService {
  readonly address: string;
  stop(): Promise<void>;
}

/** Runs infra/proxy/earshot-route-key.py on a loopback port, as the instance's systemd unit does. */
export async function startRouteKeyService(): Promise<RouteKeyService> {
  const address = `127.0.0.1:${await freePort()}`;
  const child = spawn('python3', [routeKeyScript], {
    env: { ...process.env, EARSHOT_ROUTE_KEY_LISTEN: address },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
  };
  try {
    await waitFor('earshot-route-key to listen', async () => {
      if (child.exitCode !== null) throw new Error(`earshot-route-key exited: ${stderr}`);
      return (await fetch(`http://${address}/`)).status === 204;
    });
  } catch (error) {
    await stop();
    throw error;
  }
  return { address, stop };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export async function sleep(ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` until it returns true, at most `timeoutMs`. */
export async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 0; Date.now() < deadline; attempt++) {
    if (await check().catch(() => false)) return;
    await sleep(Math.min(25 * 2 ** attempt, 200));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

export interface LocalNginxOptions {
  readonly proxy?: Partial<ProxyRenderOptions>;
  readonly runtime?: Partial<NginxRuntime>;
  /** Initial task addresses ("127.0.0.1:PORT"); none: the sleeping upstream. */
  readonly tasks?: readonly string[];
  /** The origin secret nginx checks. @default a random one */
  readonly originSecret?: string;
}

export interface LocalNginx {
  readonly dir: string;
  readonly httpPort: number;
  readonly httpsPort: number;
  readonly configText: string;
  readonly certFile: string;
  readonly upstreamsFile: string;
  readonly originVerifyFile: string;
  readonly originSecret: string;
  /** The header CloudFront adds to every request it sends the proxy: requests without it are refused (403). */
  readonly cloudFront: Readonly<Record<string, string>>;
  /** The nginx command line (reload, test) for this instance. */
  readonly nginxArgs: readonly string[];
  /** Rewrites the stub DNS answer and runs the real earshot-upstreams script once (which reloads on change). */
  discover(tasks: readonly string[]): Promise<{ readonly stdout: string; readonly stderr: string }>;
  accessLog(): Promise<string>;
  errorLog(): Promise<string>;
  stop(): Promise<void>;
}

async function generateSelfSigned(dir: string, name: string): Promise<{ cert: string; key: string }> {
  const cert = join(dir, 'fullchain.pem');
  const key = join(dir, 'privkey.pem');
  await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-days',
    '2',
    '-subj',
    `/CN=${name}`,
    '-addext',
    `subjectAltName=DNS:${name},IP:127.0.0.1`,
    '-keyout',
    key,
    '-out',
    cert,
  ]);
  return { cert, key };
}

export async function startLocalNginx(options: LocalNginxOptions = {}): Promise<LocalNginx> {
  const dir = await mkdtemp(join(tmpdir(), 'earshot-nginx-'));
  // Workers run as root only if the test does (then `user root` keeps the temp folder readable to them).
  await chmod(dir, 0o755);
  const stopped = { value: false };
  let child: ChildProcess | undefined;
  let routeKey: RouteKeyService | undefined;
  try {
    routeKey = await startRouteKeyService();
    await mkdir(join(dir, 'tmp'));
    await mkdir(join(dir, 'acme'));
    const proxy: ProxyRenderOptions = {
      upstreamHost: 'api.earshot.test',
      upstreamPort: 8080,
      resolver: '127.0.0.1',
      ...options.proxy,
    };
    const tls = await generateSelfSigned(dir, proxy.domain ?? 'localhost');
    const originSecret = options.originSecret ?? randomBytes(24).toString('hex');
    const originVerifyFile = join(dir, 'origin-verify.conf');
    await writeFile(originVerifyFile, renderOriginVerifyConfig(originSecret));
    const [httpPort, httpsPort] = [await freePort(), await freePort()];
    const runtime: Partial<NginxRuntime> = {
      runUser: process.getuid?.() === 0 ? 'root' : null,
      workerProcesses: 1,
      pidFile: join(dir, 'nginx.pid'),
      errorLog: join(dir, 'error.log'),
      accessLog: join(dir, 'access.log'),
      tempDir: join(dir, 'tmp'),
      upstreamsFile: join(dir, 'upstreams.conf'),
      originVerifyFile,
      sleepingServer: `unix:${join(dir, 'sleeping.sock')}`,
      routeKeyServer: routeKey.address,
      certFile: tls.cert,
      keyFile: tls.key,
      acmeWebroot: join(dir, 'acme'),
      listenAddress: '127.0.0.1',
      httpPort,
      httpsPort,
      ...options.runtime,
    };
    const configText = renderNginxConfig(proxy, runtime);
    const confFile = join(dir, 'nginx.conf');
    await writeFile(confFile, configText);
    const nginxArgs = ['-p', dir, '-e', join(dir, 'error.log'), '-c', confFile];
    const tasksFile = join(dir, 'tasks.txt');
    // What earshot-upstreams sends the tasks after a reload (the production file is /etc/earshot/proxy-secret.header).
    const secretHeaderFile = join(dir, 'proxy-secret.header');
    await writeFile(secretHeaderFile, `X-Earshot-Proxy-Secret: ${originSecret}\n`, { mode: 0o600 });
    const resolver = join(dir, 'resolve.sh');
    // The stub DNS: answers the name with whatever the test wrote into tasks.txt.
    await writeFile(resolver, `#!/bin/sh\ncat '${tasksFile}'\n`, { mode: 0o755 });

    let nginxRunning = false;
    const discover = async (tasks: readonly string[]): Promise<{ stdout: string; stderr: string }> => {
      await writeFile(tasksFile, tasks.map((task) => `${task}\n`).join(''));
      const reload = [nginxBinary, ...nginxArgs].join(' ');
      const result = await run('bash', [upstreamsScript], {
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          EARSHOT_UPSTREAM_HOST: proxy.upstreamHost,
          EARSHOT_UPSTREAM_PORT: String(proxy.upstreamPort),
          EARSHOT_UPSTREAMS_FILE: runtime.upstreamsFile ?? '',
          EARSHOT_SLEEPING_SERVER: runtime.sleepingServer ?? '',
          EARSHOT_RESOLVE_CMD: resolver,
          EARSHOT_EMPTY_CONFIRMATIONS: '1',
          EARSHOT_NGINX_RELOAD_CMD: nginxRunning ? `${reload} -t -q && ${reload} -s reload` : 'none',
          EARSHOT_NGINX_HEALTH_URL: `http://127.0.0.1:${httpPort}/nginx-health`,
          EARSHOT_NGINX_PID_FILE: runtime.pidFile ?? '',
          EARSHOT_PROXY_SECRET_HEADER_FILE: secretHeaderFile,
        },
      });
      return { stdout: result.stdout, stderr: result.stderr };
    };
    await discover(options.tasks ?? []);
    await run(nginxBinary, [...nginxArgs, '-t', '-q']);

    const started = spawn(nginxBinary, [...nginxArgs, '-g', 'daemon off;'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child = started;
    let stderr = '';
    started.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<void>((resolve) => started.once('exit', () => resolve()));
    await waitFor('nginx to answer /nginx-health', async () => {
      if (started.exitCode !== null) throw new Error(`nginx exited: ${stderr}`);
      const response = await fetch(`http://127.0.0.1:${httpPort}/nginx-health`);
      return response.status === 200;
    });
    nginxRunning = true;

    const stop = async (): Promise<void> => {
      if (stopped.value) return;
      stopped.value = true;
      if (started.exitCode === null) {
        started.kill('SIGTERM');
        const timer = setTimeout(() => started.kill('SIGKILL'), 3_000);
        await exited;
        clearTimeout(timer);
      }
      await routeKey?.stop();
      await rm(dir, { recursive: true, force: true });
    };
    return {
      dir,
      httpPort,
      httpsPort,
      configText,
      certFile: tls.cert,
      upstreamsFile: runtime.upstreamsFile ?? '',
      originVerifyFile,
      originSecret,
      cloudFront: { [ORIGIN_VERIFY_HEADER]: originSecret },
      nginxArgs: [nginxBinary, ...nginxArgs],
      discover,
      accessLog: () => readFile(join(dir, 'access.log'), 'utf8'),
      errorLog: () => readFile(join(dir, 'error.log'), 'utf8'),
      stop,
    };
  } catch (error) {
    child?.kill('SIGKILL');
    await routeKey?.stop();
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}
