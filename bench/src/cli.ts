import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { runOnce, type RunResult } from './harness.js';
import { parseOptions, USAGE } from './options.js';
import { checkBuilt, pinSelf, planCpus } from './processes.js';
import { fdLimits } from './proc.js';
import { describeMachine, formatReport, summarise, type BenchReport } from './report.js';
import { earshotBenchEnv } from './targets.js';

export interface CliIo {
  /** Progress and tables. */
  readonly out: (line: string) => void;
  /** Pin this process (the load generator) to the load CPU: the CLI does, a test runner's worker must not. */
  readonly pinSelf: boolean;
}

/** `npm run bench -- …`: runs, prints the tables and writes the JSON; resolves to the report. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<BenchReport | undefined> {
  const options = parseOptions(argv);
  if (options === 'help') {
    io.out(USAGE);
    return undefined;
  }
  checkBuilt();
  const { sizes } = options;
  // The load generator holds every player's socket (and the MCP clients'); Node raises its soft limit to
  // the hard one at start, so the hard limit is what counts.
  const sockets = options.only.has('c') ? sizes.users * sizes.playersPerUser + sizes.speaking * 2 + 200 : 0;
  const { soft } = fdLimits();
  if (sockets > soft)
    throw new Error(
      `scenario c needs about ${sockets} open descriptors and this process may have ${soft}: raise the ` +
        'hard limit (ulimit -Hn, or LimitNOFILE for a service) or run with smaller --users/--players.',
    );
  const cpus = planCpus(options.pin);
  if (cpus.pinned && io.pinSelf) pinSelf(cpus.loadCpu!);
  const machine = describeMachine();
  io.out(
    `Machine: ${machine.cpus} CPUs (${machine.cpuModel}), Node ${machine.node}, Linux ${machine.kernel}`,
  );
  io.out(
    cpus.pinned
      ? `Pinning (taskset): Earshot and the floor relay on CPU ${cpus.serverCpu}; the stand-in and the load ` +
          `generator (this process, pid ${process.pid}${io.pinSelf ? '' : ', left unpinned here'}) on CPU ${cpus.loadCpu}`
      : `Pinning: ${cpus.description}`,
  );
  const serverEnv = earshotBenchEnv(sizes.users * sizes.playersPerUser + sizes.speaking * 2);
  io.out(
    `Earshot runs with ${Object.entries(serverEnv)
      .map(([name, value]) => `${name}=${value}`)
      .join(' ')} (the default caps refuse 5,000 players from one address)` +
      `${options.serverLogLevel ? `, EARSHOT_LOG_LEVEL=${options.serverLogLevel}` : ', default log level (info)'}` +
      `${options.serverNodeArgs.length > 0 ? `; node options: ${options.serverNodeArgs.join(' ')}` : ''}`,
  );
  const runs: RunResult[] = [];
  for (let run = 1; run <= options.runs; run++) {
    io.out(`Run ${run} of ${options.runs}`);
    runs.push(await runOnce(options, cpus, run, io.out));
  }
  const report: BenchReport = {
    date: new Date().toISOString(),
    machine,
    pinning: cpus.description,
    options: {
      runs: options.runs,
      only: [...options.only],
      quick: options.quick,
      pacing: options.pacing,
      sizes,
      serverNodeArgs: options.serverNodeArgs,
    },
    serverEnv,
    summary: summarise(options, runs),
    runs,
  };
  io.out('');
  io.out(formatReport(report));
  const path = resolve(options.json);
  mkdirSync(dirname(path), { recursive: true });
  // Infinity and NaN have no JSON form: written as null, which the smoke test treats as missing.
  writeFileSync(path, `${JSON.stringify(report, null, 2)}\n`);
  io.out(`\nJSON: ${path}`);
  return report;
}
