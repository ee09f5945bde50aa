import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { sampleProc, type ProcSample } from './proc.js';

/** The built CLI; the same relative path works from src (vitest) and dist (npm run chaos). */
export const CLI_PATH = fileURLToPath(new URL('../../../server/dist/bundle/main.js', import.meta.url));

export interface ServerOptions {
  readonly env: Readonly<Record<string, string>>;
  /**
   * Runs the CLI through this command prefix; the prefix must end by exec'ing its arguments, so the
   * child's pid stays the server's (the full-disk scenario mounts a tmpfs in a private namespace first).
   */
  readonly wrapper?: readonly string[];
  readonly startTimeoutMs?: number;
  /** Open the V8 inspector on a free loopback port (for live-memory readings after a forced GC). */
  readonly inspect?: boolean;
}

export interface LogLine {
  readonly level?: number;
  readonly msg?: string;
  readonly [field: string]: unknown;
}

/** Servers still running; killed if this process exits early (a thrown error, a test timeout). */
const LIVE = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of LIVE) child.kill('SIGKILL');
});

/**
 * `earshot serve` as a real process on 127.0.0.1 with a free port: crashes, memory, descriptors and
 * everything it prints are observable from outside, as an operator would see them.
 */
export class ServerProcess {
  private stdout = '';
  private stderr = '';
  private partialLine = '';
  private readonly logLines: LogLine[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  exitStatus: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  /** Set when we killed it on purpose, so the exit is not counted as a crash. */
  killedOnPurpose = false;
  url = '';

  private constructor(private readonly child: ChildProcess) {
    child.stdout!.on('data', (data: Buffer) => this.onStdout(data.toString('utf8')));
    child.stderr!.on('data', (data: Buffer) => (this.stderr += data.toString('utf8')));
    LIVE.add(child);
    this.exited = new Promise((resolve) =>
      child.on('exit', (code, signal) => {
        LIVE.delete(child);
        this.exitStatus = { code, signal };
        resolve({ code, signal });
      }),
    );
  }

  static async start(options: ServerOptions): Promise<ServerProcess> {
    if (!existsSync(CLI_PATH)) {
      throw new Error(`${CLI_PATH} is missing: run "npm run build" first (npm run chaos and npm test do).`);
    }
    // Debugging aid: CHAOS_SERVER_NODE_ARGS="--trace-gc" shows the live heap behind the RSS figures.
    const nodeArgs = process.env.CHAOS_SERVER_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
    if (options.inspect) nodeArgs.unshift('--inspect=127.0.0.1:0');
    const command = [...(options.wrapper ?? []), process.execPath, ...nodeArgs, CLI_PATH, 'serve'];
    const child = spawn(command[0]!, command.slice(1), {
      env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: '0', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const server = new ServerProcess(child);
    // Generous: on a busy two-core machine (parallel test files, Flite warming up) start-up can take a while.
    const timeoutMs = options.startTimeoutMs ?? 60_000;
    try {
      server.url = await server.waitForBanner(timeoutMs);
    } catch (error) {
      await server.kill('SIGKILL');
      throw error;
    }
    return server;
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get alive(): boolean {
    return this.exitStatus === undefined;
  }

  /** Everything the process printed so far, stdout then stderr. */
  output(): string {
    return `${this.stdout}${this.stderr}`;
  }

  /** stderr without the inspector's own announcements. */
  get stderrText(): string {
    return this.stderr
      .split('\n')
      .filter(
        (line) =>
          !/^(Debugger (listening|ending) on|For help, see: https:\/\/nodejs\.org|Debugger attached|Waiting for the debugger)/.test(
            line,
          ),
      )
      .join('\n');
  }

  /** The inspector's WebSocket URL, when started with `inspect`. */
  get inspectorUrl(): string | undefined {
    return /Debugger listening on (ws:\/\/127\.0\.0\.1:\d+\/[\w-]+)/.exec(this.stderr)?.[1];
  }

  /** stdout JSON log lines parsed so far (the banner and other plain text is skipped). */
  logs(): readonly LogLine[] {
    return this.logLines;
  }

  sample(): ProcSample | undefined {
    return this.alive ? sampleProc(this.pid) : undefined;
  }

  /** Sends a signal and waits (bounded) for the exit. */
  async kill(
    signal: NodeJS.Signals = 'SIGKILL',
    waitMs = 10_000,
    beforeForce?: () => void,
  ): Promise<boolean> {
    if (!this.alive) return true;
    this.killedOnPurpose = true;
    this.child.kill(signal);
    const exited = await Promise.race([
      this.exited.then(() => true),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), waitMs).unref()),
    ]);
    if (!exited && signal !== 'SIGKILL') {
      beforeForce?.();
      this.child.kill('SIGKILL');
      await this.exited;
    }
    return exited;
  }

  /** Graceful stop (SIGTERM); returns how long it took, or undefined if it had to be killed. */
  async stop(boundMs: number, beforeForce?: () => void): Promise<number | undefined> {
    const started = performance.now();
    const graceful = await this.kill('SIGTERM', boundMs, beforeForce);
    return graceful ? performance.now() - started : undefined;
  }

  private onStdout(text: string): void {
    this.stdout += text;
    const lines = (this.partialLine + text).split('\n');
    this.partialLine = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.startsWith('{')) continue;
      try {
        this.logLines.push(JSON.parse(line) as LogLine);
      } catch {
        // Not a log line.
      }
    }
  }

  private waitForBanner(timeoutMs: number): Promise<string> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        clearInterval(poll);
        reject(new Error(`no banner within ${timeoutMs} ms:\n${this.output()}`));
      }, timeoutMs);
      const poll = setInterval(() => {
        const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(this.stdout);
        if (match) {
          clearTimeout(timer);
          clearInterval(poll);
          resolve(match[1]!);
        } else if (!this.alive) {
          clearTimeout(timer);
          clearInterval(poll);
          reject(
            new Error(
              `earshot exited (${JSON.stringify(this.exitStatus)}) before listening:\n${this.output()}`,
            ),
          );
        }
      }, 20);
    });
  }
}
