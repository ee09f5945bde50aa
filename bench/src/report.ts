import { readFileSync } from 'node:fs';
import { availableParallelism, cpus, release } from 'node:os';
import { figureList, SCENARIO_TITLES, SCENARIOS, type Unit } from './figures.js';
import type { RunResult } from './harness.js';
import type { BenchOptions } from './options.js';
import { spread, type Spread } from './stats.js';
import { TARGETS, type TargetName } from './targets.js';

export interface Machine {
  readonly cpus: number;
  readonly availableParallelism: number;
  readonly cpuModel: string;
  readonly node: string;
  readonly kernel: string;
}

export function describeMachine(): Machine {
  let model = cpus()[0]?.model ?? 'unknown';
  try {
    model = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? model;
  } catch {
    // Not Linux: os.cpus() has it.
  }
  return {
    cpus: cpus().length,
    availableParallelism: availableParallelism(),
    cpuModel: model.trim(),
    node: process.version,
    kernel: release(),
  };
}

export interface SummaryRow {
  readonly id: string;
  readonly scenario: string;
  readonly label: string;
  readonly unit: Unit;
  readonly target: string | null;
  /** Per target: min, median and max across runs, and every run's value (null where a run had none). */
  readonly values: Partial<Record<TargetName, Spread & { readonly runs: (number | null)[] }>>;
  /** Runs whose values meet the target, of the runs that could be judged; null without a target. */
  readonly met: { readonly runs: number; readonly of: number } | null;
}

export interface BenchReport {
  readonly date: string;
  readonly machine: Machine;
  readonly pinning: string;
  readonly options: {
    readonly runs: number;
    readonly only: string[];
    readonly quick: boolean;
    readonly pacing: BenchOptions['pacing'];
    readonly sizes: BenchOptions['sizes'];
    /** Node options Earshot ran with (--server-node-args); absent in results written before it existed. */
    readonly serverNodeArgs?: readonly string[];
  };
  /** Environment the benchmark sets on Earshot beyond keys, data directory and the upstream. */
  readonly serverEnv: Readonly<Record<string, string>>;
  readonly summary: SummaryRow[];
  readonly runs: RunResult[];
}

export function summarise(options: BenchOptions, runs: readonly RunResult[]): SummaryRow[] {
  return figureList(options.sizes.concurrentSpeakers)
    .filter((figure) => runs.some((run) => run.figures[figure.id]))
    .map((figure) => {
      const values: SummaryRow['values'] = {};
      for (const name of TARGETS) {
        if (name === 'floor' && !figure.floor) continue;
        const perRun = runs.map((run) => run.figures[figure.id]?.[name] ?? null);
        const present = perRun.filter((value): value is number => value !== null);
        if (present.length > 0) values[name] = { ...spread(present), runs: perRun };
      }
      const verdicts = figure.target
        ? runs
            .map((run) => figure.target!.met(run.figures[figure.id] ?? {}))
            .filter((verdict) => verdict !== undefined)
        : [];
      return {
        id: figure.id,
        scenario: figure.scenario,
        label: figure.label,
        unit: figure.unit,
        target: figure.target?.text ?? null,
        values,
        met: figure.target ? { runs: verdicts.filter(Boolean).length, of: verdicts.length } : null,
      };
    });
}

function formatValue(value: number, unit: Unit): string {
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  switch (unit) {
    case 'ms':
      return value.toFixed(abs < 10 ? 2 : abs < 100 ? 1 : 0);
    case 's':
    case '×':
      return value.toFixed(2);
    case 'kbit/s':
      return value.toFixed(1);
    case 'MB':
    case 'streams':
      return value.toFixed(0);
  }
}

function cell(row: SummaryRow, name: TargetName, runs: number): string {
  const values = row.values[name];
  if (!values) return '–';
  const unit = row.unit === '×' ? '×' : ` ${row.unit}`;
  const median = `${formatValue(values.median, row.unit)}${unit}`;
  if (runs === 1 || values.min === values.max) return median;
  return `${median} (${formatValue(values.min, row.unit)}–${formatValue(values.max, row.unit)})`;
}

function verdict(row: SummaryRow): string {
  if (!row.met) return '';
  if (row.met.of === 0) return '?';
  if (row.met.runs === row.met.of) return 'yes';
  if (row.met.runs === 0) return 'no';
  return `${row.met.runs}/${row.met.of} runs`;
}

/** Markdown tables, one per scenario, with the references and notes that go with them. */
export function formatReport(report: BenchReport): string {
  const { machine, options } = report;
  const runs = report.runs.length;
  const lines = [
    `Earshot benchmark — ${report.date.slice(0, 10)}, ${machine.cpus} CPUs (${machine.cpuModel}), Node ${machine.node}`,
    `Pinning: ${report.pinning}`,
    `Stand-in: prerendered audio, ${options.pacing.firstByteLatencyMs} ms to first byte, ${options.pacing.realtimeFactor}× real time`,
    `Earshot environment set for the benchmark: ${Object.entries(report.serverEnv)
      .map(([name, value]) => `${name}=${value}`)
      .join(
        ' ',
      )}${options.serverNodeArgs?.length ? `; node options: ${options.serverNodeArgs.join(' ')}` : ''}`,
    `Load average (1 min) at the start of each run: ${report.runs.map((run) => run.loadavg.start.toFixed(2)).join(', ')}; at the end: ${report.runs.map((run) => run.loadavg.end.toFixed(2)).join(', ')}`,
    runs > 1
      ? `${runs} runs: median (min–max) across runs; "met" counts the runs that meet the target.`
      : '1 run.',
  ];
  const extra = (id: string) => {
    const values = report.runs.map((run) => run.extras[id]).filter((v): v is number => v !== undefined);
    return values.length > 0 ? spread(values) : undefined;
  };
  const show = (s: Spread | undefined, unit: Unit) =>
    !s
      ? '?'
      : runs === 1 || s.min === s.max
        ? `${formatValue(s.median, unit)}`
        : `${formatValue(s.median, unit)} (${formatValue(s.min, unit)}–${formatValue(s.max, unit)})`;
  for (const scenario of SCENARIOS) {
    const rows = report.summary.filter((row) => row.scenario === scenario);
    if (rows.length === 0) continue;
    lines.push('', `### ${SCENARIO_TITLES[scenario]}`, '');
    lines.push('| figure | Earshot | floor relay | target | met |', '|---|---:|---:|---|---|');
    for (const row of rows)
      lines.push(
        `| ${row.label} | ${cell(row, 'earshot', runs)} | ${cell(row, 'floor', runs)} | ${row.target ?? '–'} | ${verdict(row)} |`,
      );
    if (scenario === 'a' || scenario === 'b') {
      const p = (target: string, n: number) => show(extra(`${scenario}.${target}.p${n}`), 'ms');
      lines.push(
        '',
        `First audio, absolute (ms, p50 / p95): direct client ${p('direct', 50)} / ${p('direct', 95)}, ` +
          `Earshot ${p('earshot', 50)} / ${p('earshot', 95)}, floor ${p('floor', 50)} / ${p('floor', 95)}; ` +
          `${show(extra(`${scenario}.samples`), 'streams')} samples per path.`,
      );
    }
    if (scenario === 'c') {
      const cpu = (target: string, what: string) => show(extra(`c.${target}.${what}`), 's');
      lines.push(
        '',
        `CPU of the other processes during the speeches (s): stand-in ${cpu('earshot', 'standinCpuS')} ` +
          `(Earshot's phase) / ${cpu('floor', 'standinCpuS')} (floor's); load generator ` +
          `${cpu('earshot', 'loadGeneratorCpuS')} / ${cpu('floor', 'loadGeneratorCpuS')}. RSS before the ` +
          `players connected (MB): Earshot ${show(extra('c.earshot.rssBeforeMB'), 'MB')}, floor ` +
          `${show(extra('c.floor.rssBeforeMB'), 'MB')}; with every player connected, before the speeches: ` +
          `Earshot ${show(extra('c.earshot.rssConnectedMB'), 'MB')}, floor ${show(extra('c.floor.rssConnectedMB'), 'MB')}.`,
        '',
        `Server CPU by thread (s, user + system): ${['earshot', 'floor']
          .map(
            (target) =>
              `${target === 'earshot' ? 'Earshot' : 'floor'} ${threadBreakdown(report, target, show)}`,
          )
          .join('; ')}.`,
        '',
        // Counts print as whole numbers, as stream counts do.
        `Main-thread GC pauses during the speeches (ms; scavenges / mark-compacts): ${['earshot', 'floor']
          .map((target) => {
            const burst = (which: string) =>
              `${show(extra(`c.${target}.${which}.pauseMs`), 'ms')} (${show(extra(`c.${target}.${which}.scavenges`), 'streams')} / ` +
              `${show(extra(`c.${target}.${which}.markCompacts`), 'streams')})`;
            return `${target === 'earshot' ? 'Earshot' : 'floor'} ${burst('gc')}, speaking again ${burst('gcAgain')}`;
          })
          .join('; ')}.`,
      );
    }
  }
  const notes = report.runs.flatMap((run) => run.notes.map((note) => `run ${run.run}: ${note}`));
  if (notes.length > 0) lines.push('', 'Notes:', ...notes.map((note) => `- ${note}`));
  return lines.join('\n');
}

/** `event loop 0.61 + 0.32, libuv-worker 0.05 + 0.11, …` from the c.TARGET.cpu.KIND.{user,system} extras. */
function threadBreakdown(
  report: BenchReport,
  target: string,
  show: (s: Spread | undefined, unit: Unit) => string,
): string {
  const prefix = `c.${target}.cpu.`;
  const kinds = new Set(
    report.runs.flatMap((run) =>
      Object.keys(run.extras)
        .filter((id) => id.startsWith(prefix))
        .map((id) => id.slice(prefix.length, id.lastIndexOf('.'))),
    ),
  );
  const values = (id: string) =>
    report.runs.map((run) => run.extras[id]).filter((v): v is number => v !== undefined);
  const parts = [...kinds].map((kind) => {
    const user = values(`${prefix}${kind}.user`);
    const system = values(`${prefix}${kind}.system`);
    return `${kind} ${show(user.length ? spread(user) : undefined, 's')} + ${show(system.length ? spread(system) : undefined, 's')}`;
  });
  return parts.length > 0 ? parts.join(', ') : '?';
}
