import type { Finding } from './tally.js';

/**
 * Defects already being fixed elsewhere, so `npm test` stays green on main while the fix is in flight.
 * Keep this list tiny and remove an entry as soon as its fix lands: the findings are still counted and
 * printed (and `npm run chaos` still exits non-zero); only the short test in `npm test` tolerates them.
 */
export interface KnownDefect {
  readonly id: string;
  readonly note: string;
  readonly matches: (finding: Finding) => boolean;
}

export const KNOWN_DEFECTS: readonly KnownDefect[] = [
  {
    id: 'no-http-timeouts',
    note: 'issue 8: no request or headers timeout, so slow-header and slow-body sockets stay open (fix in flight on branch http)',
    matches: (finding) =>
      finding.scenario === 'slow-sockets' &&
      finding.kind === 'hang' &&
      /^slow (headers|body) /.test(finding.detail),
  },
];

export function markKnown(findings: readonly Finding[]): void {
  for (const finding of findings) {
    const known = KNOWN_DEFECTS.find((defect) => defect.matches(finding));
    if (known) finding.known = known.id;
  }
}
