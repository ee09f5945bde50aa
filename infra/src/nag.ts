import { Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';

/**
 * cdk-nag 3 reports through CDK's validation framework (no Annotations): `findNagViolations` runs the AwsSolutions
 * pack over a construct tree; findings are acknowledged with `Validations.of(construct).acknowledge`, each with a
 * written reason (see `suppressions.ts`).
 */
export interface NagFinding {
  readonly rule: string;
  readonly severity: 'error' | 'warning';
  readonly paths: readonly string[];
  readonly description: string;
}

export function findNagViolations(scope: IConstruct): NagFinding[] {
  const report = new AwsSolutionsChecks(undefined, { verbose: false }).validateScope(scope);
  return report.violations.map((v) => ({
    rule: v.ruleName,
    severity: v.severity === 'error' ? 'error' : 'warning',
    paths: v.violatingResources.map((r) => r.constructPath ?? r.resourceLogicalId ?? '?'),
    description: v.description,
  }));
}

/**
 * Acknowledges a rule on a construct and everything below it. Rules that report several findings per resource
 * (IAM4, IAM5) are acknowledged one finding at a time (`findings`), so a new wildcard is reported, not swallowed.
 */
export function acknowledge(
  scope: IConstruct,
  id: string,
  reason: string,
  findings?: readonly string[],
): void {
  if (reason.trim().length < 20)
    throw new Error(`cdk-nag suppression ${id} needs a real reason, got "${reason}"`);
  const ids = findings ? findings.map((f) => `${id}[${f}]`) : [id];
  for (const one of ids) Validations.of(scope).acknowledge({ id: one, reason });
}

export function formatFindings(findings: readonly NagFinding[]): string {
  return findings
    .map((f) => `${f.severity.toUpperCase()} ${f.rule}: ${f.description}\n    ${f.paths.join('\n    ')}`)
    .join('\n');
}
