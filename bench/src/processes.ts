import { execFileSync, spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { existsSync } from 'node:fs';
import { get } from 'node:http';
import { createServer } from 'node:net';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';

/** Built entry points; the same relative paths work from bench/src (vitest) and bench/dist (npm run bench). */
export const ENTRY = {
  earshot: fileURLToPath(new URL('../../server/dist/bundle/main.js', import.meta.url)),
  standin: fileURLToPath(new URL('../../testing/elevenlabs-standin/dist/main.js', import.meta.url)),
  floor: fileURLToPath(new URL('../dist/floor-relay.js', import.meta.url)),
  callPathProbe: fileURLToPath(new URL('../dist/call-path-probe.js', import.meta.url)),
  gcProbe: fileURLToPath(new URL('../dist/gc-probe.js', import.meta.url)),
} as const;

export function checkBuilt(): void {
  for (const [name, path] of Object.entries(ENTRY)) {
    if (!existsSync(path)) throw new Error(`${path} (${name}) is missing: run "npm run build" first.`);
  }
}

/**
 * Where each process runs. The server under test gets a CPU of its own; the stand-in and the load generator
 * share the other, as on the issue's machine, so the server's figures are not its clients' queueing. On one
 * CPU (or without taskset) nothing is pinned and the figures say so.
 */
export interface CpuPlan {
  readonly pinned: boolean;
  /** The stand-in and the load generator. */
  readonly loadCpu?: number;
  /** Earshot and the floor relay (one at a time is busy). */
  readonly serverCpu?: number;
  readonly description: string;
}

export function planCpus(wanted: boolean): CpuPlan {
  if (!wanted) return { pinned: false, description: 'not pinned (--no-pin)' };
  if (availableParallelism() < 2)
    return { pinned: false, description: `not pinned: ${availableParallelism()} CPU available` };
  let allowed: number[];
  try {
    // "pid 123's current affinity list: 0,1" (or ranges: 0-3,6)
    const text = execFileSync('taskset', ['-c', '-p', String(process.pid)], { encoding: 'utf8' });
    allowed = (text.split(':').at(-1) ?? '')
      .trim()
      .split(',')
      .flatMap((part) => {
        const [from, to = from] = part.split('-').map(Number);
        return Array.from({ length: to! - from! + 1 }, (_, i) => from! + i);
      });
  } catch {
    return { pinned: false, description: 'not pinned: taskset (util-linux) is not installed' };
  }
  const [loadCpu, serverCpu] = allowed;
  if (loadCpu === undefined || serverCpu === undefined)
    return { pinned: false, description: `not pinned: affinity list ${allowed.join(',')}` };
  return {
    pinned: true,
    loadCpu,
    serverCpu,
    description: `server under test alone on CPU ${serverCpu}; stand-in and load generator on CPU ${loadCpu}`,
  };
}

/**
 * Pins this process (every thread it has; later threads inherit) to a CPU. Only the CLI does this: a test
 * runner's worker must not be pinned for the rest of its life.
 */
export function pinSelf(cpu: number): void {
  execFileSync('taskset', ['-a', '-c', '-p', String(cpu), String(process.pid)], { stdio: 'ignore' });
}

/** Children still running; killed if this process exits early (a thrown error, a test timeout). */
const LIVE = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of LIVE) child.kill('SIGKILL');
});

export interface SpawnOptions {
  readonly cpu?: number;
  readonly env?: Readonly<Record<string, string>>;
  readonly stdio?: StdioOptions;
}

/** A process of the benchmark: started pinned (taskset execs it, so the pid is the program's), always stopped. */
export class Child {
  readonly exited: Promise<void>;
  exitStatus: string | undefined;
  private output = '';

  constructor(
    readonly name: string,
    readonly process: ChildProcess,
  ) {
    LIVE.add(process);
    const keep = (data: Buffer) => (this.output = (this.output + data.toString('utf8')).slice(-4000));
    process.stdout?.on('data', keep);
    process.stderr?.on('data', keep);
    this.exited = new Promise((resolve) =>
      process.once('exit', (code, signal) => {
        LIVE.delete(process);
        this.exitStatus = signal ? `signal ${signal}` : `code ${code}`;
        resolve();
      }),
    );
  }

  static spawn(name: string, args: readonly string[], options: SpawnOptions = {}): Child {
    const command = options.cpu === undefined ? process.execPath : 'taskset';
    const argv =
      options.cpu === undefined ? [...args] : ['-c', String(options.cpu), process.execPath, ...args];
    const child = spawn(command, argv, {
      env: { PATH: process.env.PATH ?? '', ...options.env },
      stdio: options.stdio ?? ['ignore', 'pipe', 'pipe'],
    });
    return new Child(name, child);
  }

  get pid(): number {
    return this.process.pid ?? -1;
  }

  get alive(): boolean {
    return this.exitStatus === undefined;
  }

  /** The last few KB it printed on piped stdout/stderr, for error messages. */
  get recentOutput(): string {
    return this.output;
  }

  /** The first line it prints on stdout (the stand-in and the floor print their URL). */
  firstLine(timeoutMs: number): Promise<string> {
    return new Promise((resolve, reject) => {
      let text = '';
      const onData = (data: Buffer) => {
        text += data.toString('utf8');
        const end = text.indexOf('\n');
        if (end < 0) return;
        done();
        resolve(text.slice(0, end).trim());
      };
      const onExit = () => {
        done();
        reject(new Error(`${this.name} exited (${this.exitStatus}) before it was ready:\n${this.output}`));
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`${this.name} printed nothing within ${timeoutMs} ms:\n${this.output}`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.process.stdout?.off('data', onData);
        this.process.off('exit', onExit);
      };
      this.process.stdout?.on('data', onData);
      this.process.once('exit', onExit);
    });
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited. */
  async stop(graceMs = 5000): Promise<void> {
    if (!this.alive) return;
    this.process.kill('SIGTERM');
    const timer = setTimeout(() => this.process.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

/** A port free on 127.0.0.1 a moment ago (the kernel could hand it out again; startup failures say so). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/**
 * Polls `url` every `everyMs` until it answers 200; resolves to the time of that answer
 * (performance.now()). Fails if `child` exits first or the deadline passes.
 */
export async function until200(url: string, child: Child, timeoutMs: number, everyMs = 5): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (!child.alive)
      throw new Error(`${child.name} exited (${child.exitStatus}) before ${url} answered 200`);
    if ((await statusOf(url)) === 200) return performance.now();
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  throw new Error(`${url} did not answer 200 within ${timeoutMs} ms`);
}

/** The status of a GET on a fresh connection (plain node:http: no pool, no lazy loading), 0 if it failed. */
export function statusOf(url: string): Promise<number> {
  return new Promise((resolve) => {
    const request = get(url, { agent: false, timeout: 2000 }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.once('timeout', () => request.destroy());
    request.once('error', () => resolve(0));
  });
}
