import { describe, expect, it } from 'vitest';
import { KNOWN_DEFECTS } from './known-defects.js';
import { SCENARIOS, SHORT } from './options.js';
import { formatReport } from './report.js';
import { runSuite } from './suite.js';

/**
 * The short fault suite inside `npm test`: the same scenarios as `npm run chaos` at a smaller size
 * (1,000 seeded inputs, 40 slow sockets, one kill -9, the full disk where a tmpfs can be mounted).
 * About 40 s on an idle two-core machine; the timeout is far larger because a loaded one is slower.
 */
describe('chaos suite (short)', () => {
  it('1,000 fuzz inputs, upstream faults, slow sockets, kill -9, full disk, local keys: no crash, 5xx, hang, leak, stack or key in any output beyond the known defects in flight', async () => {
    const report = await runSuite(SHORT);
    const text = formatReport(report);
    const known = report.scenarios.flatMap((s) => s.findings).filter((f) => f.known);
    if (known.length > 0) {
      console.warn(
        `chaos: tolerating known defects in flight (${KNOWN_DEFECTS.map((d) => d.id).join(', ')}):\n${known.map((f) => `  ${f.detail}`).join('\n')}`,
      );
    }

    expect(report.errors, text).toEqual([]);
    expect(report.scenarios.map((s) => s.scenario)).toEqual([...SCENARIOS]);
    expect(report.inputs).toBeGreaterThanOrEqual(SHORT.inputs);
    for (const scenario of report.scenarios) {
      // A scenario this machine cannot run says why; it is never counted as passed silently.
      if (scenario.notRun !== null) expect(scenario.notRun, text).toMatch(/^not run \(.+\)$/);
      else expect(scenario.inputs, `${scenario.scenario} sent nothing\n${text}`).toBeGreaterThan(0);
    }
    expect(report.unknown, text).toEqual({ crash: 0, '5xx': 0, hang: 0, leak: 0, key: 0, stack: 0 });
  }, 300_000);
});
