import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, mergeConfig, parseConfig, type EarshotConfig } from '../src/config.js';

export const infraDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const repoRoot = resolve(infraDir, '..');

export function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as unknown;
  } catch (err) {
    throw new ConfigError(`Cannot read ${path}: ${(err as Error).message}`);
  }
}

/**
 * Configuration, later wins: defaults → context `earshot` (cdk.json, or the CLI's context) → the JSON file named by
 * context `earshotConfigFile` or env `EARSHOT_DEPLOY_CONFIG` → context `imageTag` (the deploy workflow's commit SHA).
 */
export function loadConfig(context: (key: string) => unknown): EarshotConfig {
  let raw: unknown = context('earshot') ?? {};
  const file = (context('earshotConfigFile') as string | undefined) ?? process.env.EARSHOT_DEPLOY_CONFIG;
  if (file) raw = mergeConfig(raw, readJson(resolve(process.cwd(), file)));
  const imageTag = context('imageTag') as string | undefined;
  if (imageTag) raw = mergeConfig(raw, { task: { imageTag } });
  return parseConfig(raw, file ? `configuration (${file})` : 'configuration');
}

/** Context as the CDK CLI passes it, or read from cdk.json when run directly (`npm run synth`, `npm run cost`). */
export function contextReader(tryGetContext: (key: string) => unknown): (key: string) => unknown {
  if (process.env.CDK_CONTEXT_JSON !== undefined) return tryGetContext;
  const cdkJson = readJson(resolve(infraDir, 'cdk.json')) as { context?: Record<string, unknown> };
  return (key) => tryGetContext(key) ?? cdkJson.context?.[key];
}
