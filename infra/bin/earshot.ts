#!/usr/bin/env node
/** CDK entry point (`cdk synth`, `cdk deploy`, `npm run synth`): the only place that reads files and context. */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { App } from 'aws-cdk-lib';
import { buildEarshotApp } from '../src/app.js';
import { ConfigError } from '../src/config.js';
import { contextReader, infraDir, loadConfig, repoRoot } from './load-config.js';
import { SynthesisMessageLevel } from 'aws-cdk-lib/cx-api';

function main(): void {
  const underCli = process.env.CDK_CONTEXT_JSON !== undefined;
  const app = new App({ outdir: process.env.CDK_OUTDIR ?? resolve(infraDir, 'cdk.out') });
  const config = loadConfig(contextReader((k) => app.node.tryGetContext(k)));
  const webDist = resolve(repoRoot, 'web', 'dist');
  const consoleAssetsPath = existsSync(resolve(webDist, 'index.html')) ? webDist : undefined;
  const assembly = buildEarshotApp(config, { app, consoleAssetsPath }).app.synth();
  if (!underCli) {
    // The CDK CLI prints these itself; run directly, say them.
    for (const stack of assembly.stacks) {
      console.log(`${stack.stackName}: ${stack.templateFullPath}`);
      for (const message of stack.messages.filter((m) => m.level === SynthesisMessageLevel.WARNING)) {
        const data = message.entry.data;
        console.warn(`WARNING ${stack.stackName}: ${typeof data === 'string' ? data : JSON.stringify(data)}`);
      }
    }
    if (!consoleAssetsPath)
      console.log('web/dist not built: only config.json will be deployed to the console bucket');
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
