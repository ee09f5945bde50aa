/**
 * What a scenario found. The counted kinds are the table's columns; every counted event also becomes a
 * Finding with enough to replay it (seed, input index, the request as generated, the response excerpt).
 */
export type FindingKind = 'crash' | '5xx' | 'hang' | 'leak' | 'key' | 'stack' | 'policy';

export interface Finding {
  readonly kind: FindingKind;
  readonly scenario: string;
  readonly detail: string;
  /** The fuzz input's index (replay with --seed S --replay N). */
  readonly index?: number;
  readonly input?: string;
  readonly response?: string;
  /** How many counted events this finding stands for (one per socket for slow sockets); default 1. */
  readonly count?: number;
  /** Matches an entry of KNOWN_DEFECTS: a defect already being fixed elsewhere. */
  known?: string;
}

export interface ScenarioSummary {
  readonly scenario: string;
  readonly inputs: number;
  readonly crashes: number;
  readonly fiveXx: number;
  readonly refusals: number;
  readonly refusalCodes: Readonly<Record<string, number>>;
  readonly hangs: number;
  readonly leaks: number;
  readonly keyLeaks: number;
  readonly stacks: number;
  readonly policy: number;
  readonly rssBeforeKiB: number | null;
  readonly rssAfterKiB: number | null;
  readonly durationMs: number;
  /** Set when the scenario could not run here; the reason is reported instead of a pass. */
  readonly notRun: string | null;
  readonly error: string | null;
  readonly statuses: Readonly<Record<string, number>>;
  readonly breakdown: Readonly<Record<string, number>>;
  readonly notes: readonly string[];
  readonly findings: readonly Finding[];
}

/** At most this many findings of one kind are kept per scenario (the counts stay exact). */
const MAX_FINDINGS_PER_KIND = 25;

export class Tally {
  inputs = 0;
  readonly counts: Record<FindingKind, number> = {
    crash: 0,
    '5xx': 0,
    hang: 0,
    leak: 0,
    key: 0,
    stack: 0,
    policy: 0,
  };
  readonly refusalCodes = new Map<string, number>();
  readonly statuses = new Map<string, number>();
  readonly notes: string[] = [];
  /** Counted events by kind and description (the kept findings are capped; this is not). */
  readonly breakdown = new Map<string, number>();
  readonly findings: Finding[] = [];
  rssBeforeKiB: number | null = null;
  rssAfterKiB: number | null = null;
  notRun: string | null = null;
  /** The scenario stopped early for a reason that is not a server crash (a harness or setup failure). */
  error: string | null = null;
  private readonly started = performance.now();
  private endedAt: number | undefined;

  constructor(readonly scenario: string) {}

  /** Counts `times` events of a kind and keeps one finding describing them. */
  find(
    kind: FindingKind,
    detail: string,
    extra: Omit<Finding, 'kind' | 'scenario' | 'detail'> = {},
    times = 1,
  ): void {
    this.counts[kind] += times;
    const key = `${kind}: ${detail.replace(/\d+ of \d+/, 'N of N').slice(0, 110)}`;
    this.breakdown.set(key, (this.breakdown.get(key) ?? 0) + times);
    if (this.findings.filter((finding) => finding.kind === kind).length < MAX_FINDINGS_PER_KIND) {
      this.findings.push({
        kind,
        scenario: this.scenario,
        detail,
        ...extra,
        ...(times === 1 ? {} : { count: times }),
      });
    }
  }

  /** A scenario that could not go on: a crash if the server is gone, else a harness error. */
  fail(serverDied: boolean, detail: string): void {
    if (serverDied) this.find('crash', detail);
    else this.error = detail;
  }

  refuse(code: string): void {
    this.refusalCodes.set(code, (this.refusalCodes.get(code) ?? 0) + 1);
  }

  status(label: string): void {
    this.statuses.set(label, (this.statuses.get(label) ?? 0) + 1);
  }

  note(text: string): void {
    this.notes.push(text);
  }

  end(): void {
    this.endedAt ??= performance.now();
  }

  summary(): ScenarioSummary {
    const refusals = [...this.refusalCodes.values()].reduce((sum, n) => sum + n, 0);
    return {
      scenario: this.scenario,
      inputs: this.inputs,
      crashes: this.counts.crash,
      fiveXx: this.counts['5xx'],
      refusals,
      refusalCodes: Object.fromEntries([...this.refusalCodes].sort()),
      hangs: this.counts.hang,
      leaks: this.counts.leak,
      keyLeaks: this.counts.key,
      stacks: this.counts.stack,
      policy: this.counts.policy,
      rssBeforeKiB: this.rssBeforeKiB,
      rssAfterKiB: this.rssAfterKiB,
      durationMs: Math.round((this.endedAt ?? performance.now()) - this.started),
      notRun: this.notRun,
      error: this.error,
      statuses: Object.fromEntries([...this.statuses].sort()),
      breakdown: Object.fromEntries([...this.breakdown].sort((a, b) => b[1] - a[1])),
      notes: this.notes,
      findings: this.findings,
    };
  }
}
