#!/usr/bin/env node
/**
 * `npm run cost [-- --json] [-- --no-free-tier]`: the monthly bill of the configured deployment and of the seed
 * document's scenario, computed from the synthesized templates and `cost/prices.json`.
 */
import { resolve } from 'node:path';
import { App } from 'aws-cdk-lib';
import { ConfigError } from '../src/config.js';
import { formatReports } from '../src/cost/format.js';
import { DEFAULT_USAGE } from '../src/cost/model.js';
import { parsePriceTable } from '../src/cost/prices.js';
import { costOf, seedScenarioConfig } from '../src/cost/scenarios.js';
import { contextReader, infraDir, loadConfig, readJson } from './load-config.js';

function main(): void {
  const args = new Set(process.argv.slice(2));
  // npm swallows unknown flags after `npm run cost --` into npm_config_*; accept both spellings.
  const npmFreeTier = process.env.npm_config_free_tier;
  const noFreeTier = args.has('--no-free-tier') || npmFreeTier === '' || npmFreeTier === 'false';
  const usage = { ...DEFAULT_USAGE, freeTier: !noFreeTier };
  const config = loadConfig(contextReader((k) => new App().node.tryGetContext(k)));
  const prices = parsePriceTable(readJson(resolve(infraDir, 'cost', 'prices.json')));
  const seed = seedScenarioConfig(config);
  const s = config.schedule;
  const scenarios = [
    { title: 'Seed scenario (us-east-1, 09-18 daily)', config: seed },
    {
      title: `Configured (${config.region}, ${s.start}-${s.end} ${s.days.length === 7 ? 'daily' : s.days.join(',')})`,
      config,
    },
  ].map((x) => ({ title: x.title, report: costOf(x.config, prices, usage) }));

  // `npm run cost -- --json` hands --json to npm itself, which exports it as npm_config_json.
  if (args.has('--json') || process.env.npm_config_json === 'true') {
    console.log(
      JSON.stringify(
        { prices: { retrieved: prices.retrieved, currency: prices.currency }, usage, scenarios },
        null,
        2,
      ),
    );
    return;
  }
  console.log(
    `Earshot monthly cost (USD), prices of ${prices.retrieved} (infra/cost/prices.json), from the synthesized templates.`,
  );
  console.log(
    `Usage: ${usage.callsPerDay} calls/day, ${usage.averageTasks} task during active hours, ${usage.dataTransferOutGb} GB out; ` +
      `free tiers ${usage.freeTier ? 'applied (account-wide; --no-free-tier to ignore)' : 'ignored'}; months of ${(365.25 / 12).toFixed(2)} days.\n`,
  );
  console.log(formatReports(scenarios));
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
