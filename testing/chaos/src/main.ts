#!/usr/bin/env node
import { writeFileSync } from 'node:fs';
import { parseArgs, UsageError } from './options.js';
import { formatReport } from './report.js';
import { replay } from './replay.js';
import { runSuite } from './suite.js';

/** `npm run chaos -- [options]`: runs the fault suite, prints the table, exits 1 on any finding. */
async function main(): Promise<number> {
  const options = parseArgs(process.argv.slice(2));
  const progress = (line: string) =>
    process.stderr.write(`[chaos ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
  if (options.replay !== undefined) {
    return (await replay(options, options.replay, (line) => process.stdout.write(`${line}\n`))) ? 0 : 1;
  }
  progress(`seed ${options.seed}, ${options.inputs} fuzz inputs, scenarios: ${options.scenarios.join(', ')}`);
  const report = await runSuite(options, progress);
  process.stdout.write(`${formatReport(report)}\n`);
  if (options.json) {
    writeFileSync(options.json, `${JSON.stringify(report, null, 2)}\n`);
    progress(`wrote ${options.json}`);
  }
  return report.failed ? 1 : 0;
}

// Ctrl-C or a kill: exit through process.exit so the servers under test are killed (server-process.ts).
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof UsageError ? error.message : error);
    process.exit(2);
  },
);
