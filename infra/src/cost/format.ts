import type { CostReport } from './model.js';

/** What the seed document's table claims per component (100 calls/day, 9 h/day). */
export const SEED_CLAIMS: Readonly<Record<string, string>> = {
  'S3 + CloudFront console': '<$0.1',
  Fargate: '$6-8',
  'EC2 proxy/NAT': '$2',
  ECR: '<$1',
  'CloudWatch logs': '~$1',
};
export const SEED_TOTAL_CLAIM = '~$9-12';

export interface NamedReport {
  readonly title: string;
  readonly report: CostReport;
}

/** One scenario of `npm run cost -- --json`. */
export interface JsonScenario {
  readonly id: string;
  readonly profile: string;
  readonly report: CostReport;
}

/** `{"scenarios":[{"id","profile","monthlyUsd","lines":[{"item","monthlyUsd"}]}]}`: the contract of --json. */
export function toJson(reports: readonly JsonScenario[]): string {
  const cents = (n: number): number => Math.round(n * 100) / 100;
  return JSON.stringify(
    {
      scenarios: reports.map((r) => ({
        id: r.id,
        profile: r.profile,
        monthlyUsd: cents(r.report.totalUsd),
        lines: r.report.lines.map((l) => ({ item: l.component, monthlyUsd: cents(l.monthlyUsd) })),
      })),
    },
    null,
    2,
  );
}

const usd = (n: number) => `$${n.toFixed(2)}`;

function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  const fmt = (r: readonly string[]) => `| ${r.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  const [head, ...body] = rows;
  if (!head) return '';
  return [fmt(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(fmt)].join('\n');
}

/** Markdown table: one row per component, the seed's claim, then one column per scenario. */
export function formatReports(reports: readonly NamedReport[]): string {
  const components = [...new Set(reports.flatMap((r) => r.report.lines.map((l) => l.component)))];
  const rows: string[][] = [
    ['Component', 'Seed says', ...reports.map((r) => r.title), 'Notes (last scenario)'],
  ];
  const last = reports[reports.length - 1]?.report;
  for (const c of components) {
    const seed = SEED_CLAIMS[c] ?? (c === 'CloudWatch metrics/alarms' ? '(in ~$1)' : 'not priced');
    const cells = reports.map((r) => {
      const line = r.report.lines.find((l) => l.component === c);
      return line ? usd(line.monthlyUsd) : '-';
    });
    rows.push([c, seed, ...cells, last?.lines.find((l) => l.component === c)?.detail ?? '']);
  }
  rows.push(['**Total**', SEED_TOTAL_CLAIM, ...reports.map((r) => `**${usd(r.report.totalUsd)}**`), '']);
  const what = table(rows);

  const cmpRows: string[][] = [['What if…', ...reports.map((r) => r.title), 'Note']];
  const cmpNames = [...new Set(reports.flatMap((r) => r.report.comparisons.map((l) => l.component)))];
  for (const c of cmpNames) {
    cmpRows.push([
      c,
      ...reports.map((r) => {
        const l = r.report.comparisons.find((x) => x.component === c);
        return l ? usd(l.monthlyUsd) : '-';
      }),
      last?.comparisons.find((l) => l.component === c)?.detail ?? '',
    ]);
  }
  return `${what}\n\n${table(cmpRows)}`;
}
