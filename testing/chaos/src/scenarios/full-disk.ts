import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmdirSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REAL_USER } from '../keys.js';
import { Player } from '../player.js';
import { Tally, type ScenarioSummary } from '../tally.js';
import { Target } from '../target.js';
import type { SuiteContext } from './context.js';

/** Room for the server's first files and a few speeches; filled on purpose afterwards. */
const TMPFS_SIZE = '16m';

interface DiskSetup {
  readonly mode: 'mount' | 'unshare';
  readonly dir: string;
  readonly wrapper?: readonly string[];
  /** Where this process reaches the tmpfs (through /proc/PID/root when it lives in another namespace). */
  readonly pathFromHere: (pid: number) => string;
  readonly cleanup: () => void;
}

/**
 * A tmpfs of a few megabytes: as root it is mounted here; otherwise the server runs in a private user and
 * mount namespace (`unshare -rm`) where an unprivileged user may mount one, and is reached through
 * /proc/PID/root. Returns the reason when neither works, so the table says "not run" instead of passing.
 */
export function prepareDisk(mode: SuiteContext['fullDisk']): DiskSetup | string {
  if (mode === 'off') return 'not run (--full-disk off)';
  const dir = mkdtempSync(join(tmpdir(), 'earshot-chaos-disk-'));
  const failures: string[] = [];
  if ((mode === 'auto' && process.getuid?.() === 0) || mode === 'mount') {
    const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${TMPFS_SIZE},mode=0700`, 'tmpfs', dir], {
      encoding: 'utf8',
    });
    if (mounted.status === 0) {
      // Unmounted in cleanup, or here if this process ends before the scenario's finally runs.
      const unmount = () => spawnSync('umount', ['-l', dir], { timeout: 10_000 });
      const atExit = () => {
        unmount();
        rmSync(dir, { recursive: true, force: true });
      };
      process.once('exit', atExit);
      return {
        mode: 'mount',
        dir,
        pathFromHere: () => dir,
        cleanup: () => {
          unmount();
          process.off('exit', atExit);
          rmdirSync(dir);
        },
      };
    }
    failures.push(`mount: ${(mounted.stderr || mounted.error?.message || 'failed').trim()}`);
  }
  if (mode === 'auto' || mode === 'unshare') {
    const probe = spawnSync('unshare', ['-rm', 'sh', '-c', `mount -t tmpfs -o size=1m tmpfs "${dir}"`], {
      encoding: 'utf8',
    });
    if (probe.status === 0) {
      return {
        mode: 'unshare',
        dir,
        wrapper: [
          'unshare',
          '-rm',
          'sh',
          '-c',
          `mount -t tmpfs -o size=${TMPFS_SIZE},mode=0700 tmpfs "$0" && exec "$@"`,
          dir,
        ],
        pathFromHere: (pid) => `/proc/${pid}/root${dir}`,
        cleanup: () => rmdirSync(dir),
      };
    }
    failures.push(`unshare -rm: ${(probe.stderr || probe.error?.message || 'failed').trim()}`);
  }
  rmdirSync(dir);
  return `not run (${failures.join('; ') || 'no way to mount a tmpfs'})`;
}

/** Writes until the file system refuses (ENOSPC); returns the bytes written. */
function fill(dir: string): number {
  const fd = openSync(join(dir, 'filler'), 'w');
  const chunk = Buffer.alloc(64 * 1024, 0x5a);
  let written = 0;
  try {
    for (;;) written += writeSync(fd, chunk);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
  } finally {
    closeSync(fd);
  }
  // Fill the tail too: a few bytes left would let small JSON writes succeed by luck.
  for (let i = 0; i < 256; i++) {
    let tail: number | undefined;
    try {
      tail = openSync(join(dir, `tail-${i}`), 'w');
      writeSync(tail, Buffer.alloc(512));
    } catch {
      break;
    } finally {
      if (tail !== undefined) closeSync(tail);
    }
  }
  return written;
}

/**
 * The data directory on a full disk: speech, settings, history, usage, players and readiness must give a
 * clear error or degrade, never crash, hang or answer 500. Speech must fail closed — refused with 503
 * store_unavailable before anything is spent, never a success with an audio link that 404s — and /readyz
 * must answer 503; anything else fails the scenario ("fails open"). What each call did is noted.
 */
export async function runFullDisk(suite: SuiteContext): Promise<ScenarioSummary> {
  const tally = new Tally('full-disk');
  const disk = prepareDisk(suite.fullDisk);
  if (typeof disk === 'string') {
    tally.notRun = disk;
    tally.end();
    return tally.summary();
  }
  let target: Target | undefined;
  let player: Player | undefined;
  try {
    target = await Target.start({
      keys: suite.keys,
      scanner: suite.scanner,
      env: {},
      dataDir: disk.dir,
      ...(disk.wrapper ? { wrapper: disk.wrapper } : {}),
    });
    tally.note(
      `tmpfs of ${TMPFS_SIZE} via ${disk.mode === 'mount' ? 'mount (root)' : 'unshare -rm (user namespace)'}`,
    );
    tally.rssBeforeKiB = target.sample()?.rssKiB ?? null;
    player = await Player.connect(target.url, suite.keys.byUser[REAL_USER]);
    const first = await target.realSpeak('Before the disk fills up.', 'rest', 30_000);
    target.inspect(tally, 'speech before filling', 'POST', '/api/v1/speak', first.response);
    tally.inputs++;
    if (!first.ok) throw new Error(`speech failed before the disk was full: ${first.detail}`);
    const earlierId = /"id"\s*:\s*"([^"]+)"/.exec(first.response.body.toString('utf8'))?.[1] ?? 'sp_none';

    const root = disk.pathFromHere(target.server.pid);
    const filled = fill(root);
    tally.note(`filled with ${(filled / 1024 / 1024).toFixed(1)} MiB`);

    const outcomes: string[] = [];
    const call = async (label: string, method: string, path: string, body?: unknown, deadlineMs = 30_000) => {
      const response = await target!.request(method, path, body, deadlineMs);
      target!.inspect(tally, `${label} on a full disk`, method, path, response);
      tally.inputs++;
      const text = response.body.toString('utf8');
      outcomes.push(
        `${label} → ${describeAnswer(response.outcome === 'response' ? response.status : response.outcome, text)}`,
      );
      return { response, text };
    };

    // Speech spends (ElevenLabs credits): on a disk that cannot record it, it must be refused before
    // anything is spent — 503 store_unavailable — never answered 200 with an audio link that 404s.
    for (let i = 0; i < 2; i++) {
      const { response, text } = await call('speak', 'POST', '/api/v1/speak', {
        text: `Full disk test ${i}: is anything kept?`,
        fresh: true,
      });
      const code = /"code"\s*:\s*"([a-z_]+)"/.exec(text)?.[1];
      if (response.status === 503 && code === 'store_unavailable') continue;
      const audioUrl = /"audioUrl"\s*:\s*"([^"]+)"/.exec(text)?.[1];
      let link = '';
      if (audioUrl) {
        const audio = await call('its audio', 'GET', new URL(audioUrl).pathname);
        link = `; its audioUrl answers ${audio.response.status}`;
      }
      tally.error ??= `fails open: speak ${i} on a full disk answered ${describeAnswer(response.status, text)}${link}, not 503 store_unavailable`;
    }
    const mcp = await call('mcp speak', 'POST', '/mcp', {
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: { name: 'speak', arguments: { text: 'Full disk via MCP.', fresh: true } },
    });
    if (!/\[store_unavailable\]/.test(mcp.text))
      tally.error ??= `fails open: MCP speak on a full disk answered ${describeAnswer(mcp.response.status, mcp.text)}`;
    await call('put settings', 'PUT', '/api/v1/settings', { autoPlay: false });
    await call('mcp update_settings', 'POST', '/mcp', {
      jsonrpc: '2.0',
      id: 2,
      method: 'tools/call',
      params: { name: 'update_settings', arguments: { auto_play: true } },
    });
    await call('get settings', 'GET', '/api/v1/settings');
    await call('history', 'GET', '/api/v1/history');
    await call('delete history item', 'DELETE', `/api/v1/history/${earlierId}`);
    await call('usage', 'GET', '/api/v1/usage');
    const ready = await call('readyz', 'GET', '/readyz');
    if (ready.response.status !== 503)
      tally.error ??= `/readyz answered ${ready.response.status} on a full disk: it must report a store that cannot write`;
    const second = await Player.connect(target.url, suite.keys.byUser[REAL_USER]).then(
      (p) => (p.close(), 'connected'),
      (error: unknown) => String(error),
    );
    outcomes.push(`new player → ${second}`);
    tally.note(`on a full disk: ${outcomes.join('; ')}`);

    rmSync(join(root, 'filler'), { force: true });
    for (let i = 0; i < 256; i++) rmSync(join(root, `tail-${i}`), { force: true });
    const after = await target.realSpeak('The disk has room again.', 'rest', 30_000);
    target.inspect(tally, 'speech after freeing the disk', 'POST', '/api/v1/speak', after.response);
    const settings = await target.request('PUT', '/api/v1/settings', { autoPlay: true });
    target.inspect(tally, 'settings after freeing the disk', 'PUT', '/api/v1/settings', settings);
    tally.inputs += 2;
    tally.note(`after freeing: speak ${after.ok ? 'ok' : after.detail}; settings ${settings.status}`);
    if (!after.ok) tally.find('hang', `speech did not recover after the disk was freed: ${after.detail}`);
    tally.rssAfterKiB = target.sample()?.rssKiB ?? null;
  } catch (error) {
    tally.fail(
      target?.server.alive === false,
      `full-disk scenario could not proceed: ${String(error).slice(0, 500)}`,
    );
  } finally {
    player?.close();
    if (target) await target.stop(tally);
    disk.cleanup();
    tally.end();
  }
  return tally.summary();
}

/** "200", "500 internal", "200 tool error [internal]", "200 completed" — what a call ended in, briefly. */
export function describeAnswer(status: number | string, text: string): string {
  const toolError = /"isError"\s*:\s*true/.test(text)
    ? (/\[([a-z_]+)\]/.exec(text)?.[1] ?? 'error')
    : undefined;
  if (toolError) return `${status} tool error [${toolError}]`;
  const code = /"code"\s*:\s*"([a-z_]+)"/.exec(text)?.[1];
  if (code) return `${status} ${code}`;
  const speech = /"status"\s*:\s*"(completed|stopped|failed)"/.exec(text)?.[1];
  const audio = /"audioUrl"\s*:\s*(null|")/.exec(text)?.[1];
  return `${status}${speech ? ` ${speech}` : ''}${audio === undefined ? '' : audio === 'null' ? ' (no audio kept)' : ' (audio kept)'}`;
}
