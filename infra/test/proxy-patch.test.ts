// earshot-patch as a real process (defect 6): it moves the instance to the newest Amazon Linux release only inside
// the weekly window, in the schedule's time zone, and reboots only when needs-restarting says so. dnf and the reboot
// are stand-in scripts that record how they were called.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { proxyAssetsDir } from '../src/proxy/render.js';

const run = promisify(execFile);
const script = fileURLToPath(new URL('earshot-patch.sh', proxyAssetsDir));
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'earshot-patch-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Runs the script at `now` (ISO time) with a dnf that exits with `needsRestart` for `needs-restarting -r`. */
async function patchAt(
  now: string,
  options: { tz?: string; needsRestart?: 0 | 1; upgradeFails?: boolean } = {},
) {
  const work = await mkdtemp(join(dir, 'run-'));
  const calls = join(work, 'calls.log');
  const dnf = join(work, 'dnf');
  await writeFile(
    dnf,
    [
      '#!/bin/sh',
      `echo "dnf $*" >>'${calls}'`,
      `if [ "$1" = needs-restarting ]; then exit ${options.needsRestart ?? 0}; fi`,
      options.upgradeFails ? 'exit 1' : 'exit 0',
      '',
    ].join('\n'),
    { mode: 0o755 },
  );
  const result = await run('bash', [script], {
    env: {
      PATH: process.env.PATH,
      EARSHOT_PATCH_TZ: options.tz ?? 'UTC',
      EARSHOT_PATCH_DAY: 'SUN',
      EARSHOT_PATCH_START: '03:00',
      EARSHOT_PATCH_MINUTES: '60',
      EARSHOT_NOW: String(Math.floor(Date.parse(now) / 1000)),
      EARSHOT_DNF: dnf,
      EARSHOT_REBOOT_CMD: `echo reboot >>'${calls}'`,
      EARSHOT_STATE_DIR: join(work, 'state'),
    },
  }).then(
    (r) => ({ code: 0, stderr: r.stderr }),
    (error: { code: number; stderr: string }) => ({ code: error.code, stderr: error.stderr }),
  );
  const log = (await readFile(calls, 'utf8').catch(() => '')).trim().split('\n').filter(Boolean);
  return { ...result, log };
}

describe('earshot-patch', () => {
  it('inside the window: upgrades to the newest release (the AL2023 release lock moves), no reboot unless needed', async () => {
    // 2026-11-29 is a Sunday.
    const { code, log } = await patchAt('2026-11-29T03:20:00Z');
    expect(code).toBe(0);
    expect(log).toEqual(['dnf upgrade --releasever=latest --refresh -y', 'dnf needs-restarting -r']);
  });

  it('reboots when needs-restarting says a new kernel or core library needs it', async () => {
    const { log } = await patchAt('2026-11-29T03:00:00Z', { needsRestart: 1 });
    expect(log.at(-1)).toBe('reboot');
  });

  it.each([
    ['before the window', '2026-11-29T02:59:00Z'],
    ['after the window', '2026-11-29T04:00:00Z'],
    ['on another day at the same time', '2026-11-30T03:20:00Z'],
  ])('does nothing %s (a boot for the working day)', async (_name, now) => {
    const { code, log, stderr } = await patchAt(now);
    expect(code).toBe(0);
    expect(log).toEqual([]);
    expect(stderr).toContain('outside the patch window');
  });

  it("reads the window in the schedule's time zone", async () => {
    // 03:20 in Berlin on that Sunday is 02:20 UTC.
    expect((await patchAt('2026-11-29T02:20:00Z', { tz: 'Europe/Berlin' })).log).toHaveLength(2);
    expect((await patchAt('2026-11-29T03:20:00Z', { tz: 'Europe/Berlin' })).log).toEqual([]);
  });
});
