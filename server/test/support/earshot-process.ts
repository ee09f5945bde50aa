/**
 * `earshot serve` as a real process for the store tests: several of them on one data folder or one
 * DynamoDB table, killed with -9, restarted, started on a damaged database. Speaks and reads through REST
 * with the one test user's key, and waits for log lines (events, never sleeps).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { HistoryItem, HistoryPage, SpeakResult, Usage } from '@earshot/protocol';
import { generateApiKey, sha256Hex } from '../../src/auth/keys.js';
import { CLI_PATH } from './cli.js';

const PIN_START_DAY = fileURLToPath(new URL('./pin-start-day.mjs', import.meta.url));

/** The users every test server knows, with their raw keys. */
export const KEYS = { alice: generateApiKey(), bob: generateApiKey() } as const;
export type User = keyof typeof KEYS;
export const KEYS_ENV = {
  EARSHOT_API_KEYS: Object.entries(KEYS)
    .map(([user, key]) => `${user}:${sha256Hex(key)}`)
    .join(','),
};

export interface LogLine {
  readonly msg?: string;
  readonly [field: string]: unknown;
}

export interface Answer<T> {
  readonly status: number;
  readonly body: T;
}

export class EarshotProcess {
  private output = '';
  readonly exited: Promise<number | null>;
  url = '';

  private constructor(readonly child: ChildProcessWithoutNullStreams) {
    child.stdout.on('data', (data: Buffer) => (this.output += data.toString()));
    child.stderr.on('data', (data: Buffer) => (this.output += data.toString()));
    this.exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  }

  /** Starts `earshot serve` (through `wrapper`, which must exec its arguments) and waits for its banner. */
  static async start(
    env: Record<string, string>,
    options: { wrapper?: readonly string[]; timeoutMs?: number } = {},
  ): Promise<EarshotProcess> {
    // Held on the UTC day it started, like the in-process test servers (see start-day-clock.mjs).
    const pinned = ['--import', PIN_START_DAY];
    const command = [...(options.wrapper ?? []), process.execPath, ...pinned, CLI_PATH, 'serve'];
    const child = spawn(command[0]!, command.slice(1), {
      env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: '0', ...KEYS_ENV, ...env },
    });
    const server = new EarshotProcess(child);
    try {
      const banner = await server.waitForOutput(
        /listening on (http:\/\/127\.0\.0\.1:\d+)/,
        options.timeoutMs,
      );
      server.url = banner[1]!;
    } catch (error) {
      child.kill('SIGKILL');
      throw error;
    }
    return server;
  }

  get pid(): number {
    return this.child.pid!;
  }

  text(): string {
    return this.output;
  }

  logs(): LogLine[] {
    return this.output
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as LogLine);
  }

  /** Resolves with the first log line (past or future) whose message matches. */
  async waitForLog(msg: RegExp, timeoutMs = 60_000): Promise<LogLine> {
    const found = () => this.logs().find((line) => msg.test(line.msg ?? ''));
    await this.waitUntil(() => found() !== undefined, `a log line matching ${msg}`, timeoutMs);
    return found()!;
  }

  waitForOutput(pattern: RegExp, timeoutMs = 60_000): Promise<RegExpExecArray> {
    return this.waitUntil(() => pattern.exec(this.output), `output matching ${pattern}`, timeoutMs);
  }

  async api<T>(method: string, path: string, body?: unknown, user: User = 'alice'): Promise<Answer<T>> {
    const response = await fetch(`${this.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${KEYS[user]}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : null) as T };
  }

  /** Generates anew (fresh) without playing: nothing waits for a player. */
  speak(text: string, user: User = 'alice'): Promise<Answer<SpeakResult>> {
    return this.api<SpeakResult>('POST', '/api/v1/speak', { text, fresh: true, play: false }, user);
  }

  /** Every history item, following nextCursor. */
  async history(user: User = 'alice'): Promise<HistoryItem[]> {
    const items: HistoryItem[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
      const page: Answer<HistoryPage> = await this.api<HistoryPage>(
        'GET',
        `/api/v1/history?limit=200${query}`,
        undefined,
        user,
      );
      if (page.status !== 200)
        throw new Error(`history answered ${page.status}: ${JSON.stringify(page.body)}`);
      items.push(...page.body.items);
      cursor = page.body.nextCursor;
    } while (cursor);
    return items;
  }

  async usageToday(user: User = 'alice'): Promise<Usage['today'] & { reserved?: number }> {
    const usage = await this.api<Usage>('GET', '/api/v1/usage?days=1', undefined, user);
    return usage.body.today;
  }

  async kill9(): Promise<void> {
    this.child.kill('SIGKILL');
    await this.exited;
  }

  /** SIGTERM: drains and exits 0. */
  async stop(): Promise<number | null> {
    if (this.child.exitCode !== null) return this.child.exitCode;
    this.child.kill('SIGTERM');
    return this.exited;
  }

  private waitUntil<T>(
    probe: () => T | null | undefined | false,
    what: string,
    timeoutMs = 60_000,
  ): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const value = probe();
        if (!value) return false;
        finish();
        resolve(value);
        return true;
      };
      const onData = () => void check();
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`no ${what} within ${timeoutMs} ms:\n${this.output}`));
      }, timeoutMs);
      const onExit = (code: number | null) => {
        if (check()) return;
        finish();
        reject(new Error(`earshot exited with ${code} before ${what}:\n${this.output}`));
      };
      const finish = () => {
        clearTimeout(timer);
        this.child.stdout.off('data', onData);
        this.child.stderr.off('data', onData);
        this.child.off('exit', onExit);
      };
      this.child.stdout.on('data', onData);
      this.child.stderr.on('data', onData);
      this.child.on('exit', onExit);
      if (this.child.exitCode !== null) onExit(this.child.exitCode);
      else check();
    });
  }
}

/** Starts several servers at once; stops them all if one fails to start. */
export async function startAll(envs: readonly Record<string, string>[]): Promise<EarshotProcess[]> {
  const started = await Promise.allSettled(envs.map((env) => EarshotProcess.start(env)));
  const failed = started.find((result) => result.status === 'rejected');
  if (failed) {
    await Promise.all(
      started.flatMap((result) => (result.status === 'fulfilled' ? [result.value.kill9()] : [])),
    );
    throw failed.reason;
  }
  return started.map((result) => (result as PromiseFulfilledResult<EarshotProcess>).value);
}
