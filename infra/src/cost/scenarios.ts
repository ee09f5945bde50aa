import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { buildEarshotApp } from '../app.js';
import { parseConfig, WEEK_DAYS, type EarshotConfig, type ProfileName } from '../config.js';
import { computeCost, DEFAULT_USAGE, type CostReport, type UsageAssumptions } from './model.js';
import { regionPricesOf, type PriceTable } from './prices.js';
import { extractFacts, type CfnTemplate } from './template-facts.js';

/** The seed document's custom domain, as a stand-in (the lean profile needs a domain with a hosted zone). */
export const SEED_DOMAIN = {
  apiDomain: 'api.earshot.example.com',
  hostedZoneId: 'Z0EXAMPLE0123456789',
  hostedZoneName: 'earshot.example.com',
} as const;

/**
 * The seed document's scenario: 09:00–18:00 (9 h/day), every day — its Fargate figure ($6–8 for 0.5 vCPU/1 GB)
 * only fits ~30 days a month — 100 calls/day, with its custom domain, priced in us-east-1 on what we build. Fixed:
 * it does not depend on anyone's configuration, only on the profile.
 */
export function seedScenarioConfig(profile: ProfileName): EarshotConfig {
  return parseConfig(
    {
      profile,
      region: 'us-east-1',
      domain: SEED_DOMAIN,
      schedule: { start: '09:00', end: '18:00', days: [...WEEK_DAYS] },
      task: { imageTag: 'seed' },
    },
    'seed scenario',
  );
}

/** Synthesizes both stacks in memory (temporary cloud assembly) and returns their templates. */
export function synthesizeTemplates(config: EarshotConfig): CfnTemplate[] {
  const outdir = mkdtempSync(join(tmpdir(), 'earshot-cost-'));
  try {
    const { app, foundation, service } = buildEarshotApp(config, { app: new App({ outdir }) });
    const assembly = app.synth();
    return [foundation, service].map((s) => assembly.getStackByName(s.stackName).template as CfnTemplate);
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

export function costOf(
  config: EarshotConfig,
  table: PriceTable,
  usage: UsageAssumptions = DEFAULT_USAGE,
): CostReport {
  return computeCost(extractFacts(synthesizeTemplates(config)), regionPricesOf(table, config.region), usage);
}
