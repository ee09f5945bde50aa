// The benchmark must not rot silently: a tiny run of every scenario against both targets completes and its
// JSON holds every figure as a number. Nothing here looks at how fast anything was.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from './cli.js';
import { figureList } from './figures.js';
import type { BenchReport } from './report.js';

const dir = mkdtempSync(join(tmpdir(), 'earshot-bench-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('npm run bench -- --quick', () => {
  it('runs every scenario against Earshot and the floor and writes every figure as a number', async () => {
    const json = join(dir, 'bench.json');
    const lines: string[] = [];
    // Fast pacing keeps the run short; a test runner's worker is never pinned (pinSelf: false).
    await runCli(['--quick', '--json', json, '--first-byte-ms', '20', '--rtf', '50'], {
      out: (line) => lines.push(line),
      pinSelf: false,
    });
    const report = JSON.parse(readFileSync(json, 'utf8')) as BenchReport;
    expect(report.runs).toHaveLength(1);
    const run = report.runs[0]!;
    const missing: string[] = [];
    for (const figure of figureList(report.options.sizes.concurrentSpeakers)) {
      const row = report.summary.find((candidate) => candidate.id === figure.id);
      for (const target of figure.floor ? (['earshot', 'floor'] as const) : (['earshot'] as const)) {
        const value = run.figures[figure.id]?.[target];
        if (typeof value !== 'number' || !Number.isFinite(value) || !row?.values[target])
          missing.push(`${figure.id} (${target})`);
      }
    }
    expect(missing).toEqual([]);
    // Every player stream of the crowd ended with its end marker, on both targets.
    expect(run.figures['c.incomplete']).toEqual({ earshot: 0, floor: 0 });
    expect(run.notes).toEqual([]);
    // The crowd's server CPU is split by thread (the event loop is always there, and counted).
    expect(run.extras['c.earshot.cpu.event loop.user']).toBeTypeOf('number');
    expect(lines.join('\n')).toMatch(/^Server CPU by thread \(s, user \+ system\): Earshot event loop /m);
    // Each server's GC pauses were recorded (a start-up alone makes several) and counted for both bursts.
    for (const target of ['earshot', 'floor'])
      for (const burst of ['gc', 'gcAgain'])
        expect(run.extras[`c.${target}.${burst}.pauseMs`]).toBeTypeOf('number');
    expect(run.extras['c.earshot.gcPausesRecorded']).toBeGreaterThan(0);
    expect(run.extras['c.floor.gcPausesRecorded']).toBeGreaterThan(0);
    expect(lines.join('\n')).toMatch(
      /^Main-thread GC pauses during the speeches \(ms; scavenges \/ mark-compacts\): Earshot \d/m,
    );
    // The tables were printed, one per scenario.
    expect(lines.join('\n').match(/^### /gm)).toHaveLength(6);
  }, 180_000);
});
