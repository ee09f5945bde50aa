#!/usr/bin/env node
/**
 * CDK entry point (`cdk synth`, `cdk deploy`, `npm run synth`). The only place that reads files and context.
 *
 * Configuration, later wins: defaults → `cdk.json` context `earshot` → the JSON file named by context
 * `earshotConfigFile` or env `EARSHOT_DEPLOY_CONFIG` → context `imageTag` (the deploy workflow's commit SHA).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App } from 'aws-cdk-lib';
import { buildEarshotApp } from '../src/app.js';
import { ConfigError, mergeConfig, parseConfig } from '../src/config.js';

const infraDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const repoRoot = resolve(infraDir, '..');

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as unknown;
  } catch (err) {
    throw new ConfigError(`Cannot read deployment configuration ${path}: ${(err as Error).message}`);
  }
}

function main(): void {
  // Under the CLI, context arrives in CDK_CONTEXT_JSON; run directly (npm run synth), read cdk.json ourselves.
  const underCli = process.env.CDK_CONTEXT_JSON !== undefined;
  const app = new App({ outdir: process.env.CDK_OUTDIR ?? resolve(infraDir, 'cdk.out') });
  const cdkJson = underCli ? undefined : (readJson(resolve(infraDir, 'cdk.json')) as { context?: Record<string, unknown> });
  const context = (key: string): unknown => (underCli ? app.node.tryGetContext(key) : cdkJson?.context?.[key]);

  let raw: unknown = context('earshot') ?? {};
  const file = (context('earshotConfigFile') as string | undefined) ?? process.env.EARSHOT_DEPLOY_CONFIG;
  if (file) raw = mergeConfig(raw, readJson(resolve(process.cwd(), file)));
  const imageTag = app.node.tryGetContext('imageTag') as string | undefined;
  if (imageTag) raw = mergeConfig(raw, { task: { imageTag } });

  const config = parseConfig(raw, file ? `configuration (${file})` : 'configuration');
  const webDist = resolve(repoRoot, 'web', 'dist');
  const consoleAssetsPath = existsSync(resolve(webDist, 'index.html')) ? webDist : undefined;
  const built = buildEarshotApp(config, { app, consoleAssetsPath });
  const assembly = built.app.synth();
  if (!underCli) {
    for (const stack of assembly.stacks) console.log(`${stack.stackName}: ${stack.templateFullPath}`);
    if (!consoleAssetsPath) console.log('web/dist not built: only config.json will be deployed to the console bucket');
  }
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
