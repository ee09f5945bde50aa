import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { buildEarshotApp } from '../app.js';
import { mergeConfig, parseConfig, WEEK_DAYS, type EarshotConfig } from '../config.js';
import { computeCost, DEFAULT_USAGE, type CostReport, type UsageAssumptions } from './model.js';
import { regionPricesOf, type PriceTable } from './prices.js';
import { extractFacts, type CfnTemplate } from './template-facts.js';

/**
 * The seed document's scenario: 09:00–18:00 (9 h/day), every day — its Fargate figure ($6–8 for 0.5 vCPU/1 GB)
 * only fits ~30 days a month — 100 calls/day, priced in us-east-1 on what we build (ARM, t4g.nano, Elastic IP).
 */
export function seedScenarioConfig(config: EarshotConfig): EarshotConfig {
  return parseConfig(
    mergeConfig(config, {
      region: 'us-east-1',
      schedule: { start: '09:00', end: '18:00', days: [...WEEK_DAYS] },
      task: { size: '0.5vCPU-1GB' },
      instance: { spot: false },
      cloudFront: { waf: false, signedUrls: false, webAclArn: undefined },
    }),
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
