#!/usr/bin/env node
/**
 * `npm run cost [-- --json] [-- --no-free-tier]`: the monthly bill of the seed document's scenario under both
 * profiles, and of the configured deployment, computed from the synthesized templates and `cost/prices.json`.
 */
import { resolve } from 'node:path';
import { App } from 'aws-cdk-lib';
import { ConfigError, PROFILES, type EarshotConfig } from '../src/config.js';
import { formatReports, toJson } from '../src/cost/format.js';
import { DEFAULT_USAGE } from '../src/cost/model.js';
import { parsePriceTable } from '../src/cost/prices.js';
import { costOf, seedScenarioConfig } from '../src/cost/scenarios.js';
import { contextReader, infraDir, loadConfig, readJson } from './load-config.js';

interface Scenario {
  readonly id: 'seed' | 'configured';
  readonly title: string;
  readonly config: EarshotConfig;
}

function main(): void {
  const args = process.argv.slice(2);
  // `npm run cost --json` (no `--`) reaches us as npm_config_* variables instead of arguments.
  const npmFreeTier = process.env.npm_config_free_tier;
  const noFreeTier = args.includes('--no-free-tier') || npmFreeTier === '' || npmFreeTier === 'false';
  const json = args.includes('--json') || process.env.npm_config_json === 'true';
  const usage = { ...DEFAULT_USAGE, freeTier: !noFreeTier };
  const prices = parsePriceTable(readJson(resolve(infraDir, 'cost', 'prices.json')));

  const scenarios: Scenario[] = PROFILES.map((profile) => ({
    id: 'seed',
    title: `Seed scenario, ${profile} (us-east-1, 09-18 daily)`,
    config: seedScenarioConfig(profile),
  }));
  try {
    const config = loadConfig(contextReader((k) => new App().node.tryGetContext(k)));
    const s = config.schedule;
    const days = s.days.length === 7 ? 'daily' : s.days.join(',');
    scenarios.push({
      id: 'configured',
      title: `Configured, ${config.profile} (${config.region}, ${s.start}-${s.end} ${days})`,
      config,
    });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(`No "configured" scenario: ${err.message}`);
  }
  const reports = scenarios.map((x) => ({
    ...x,
    profile: x.config.profile,
    report: costOf(x.config, prices, usage),
  }));

  if (json) {
    console.log(toJson(reports));
    return;
  }
  console.log(
    `Earshot monthly cost (USD), prices of ${prices.retrieved} (infra/cost/prices.json), from the synthesized templates.`,
  );
  console.log(
    `Usage: ${usage.callsPerDay} calls/day of ${usage.speechSecondsPerCall} s, ${usage.averageTasks} task during active hours; ` +
      `free tiers ${usage.freeTier ? 'applied (account-wide; --no-free-tier to ignore)' : 'ignored'}; months of ${(365.25 / 12).toFixed(2)} days.\n`,
  );
  console.log(formatReports(reports));
}

try {
  main();
} catch (err) {
  if (err instanceof ConfigError) {
    console.error(err.message);
    process.exit(1);
  }
  throw err;
}
