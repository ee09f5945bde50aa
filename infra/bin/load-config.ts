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
 * context `earshotConfigFile` or env `EARSHOT_DEPLOY_CONFIG` → single context values: `-c stackName=…`,
 * `-c profile=default|lean`, `-c imageTag=…` (the deploy workflow's commit SHA).
 */
export function loadConfig(context: (key: string) => unknown): EarshotConfig {
  let raw: unknown = context('earshot') ?? {};
  const file = (context('earshotConfigFile') as string | undefined) ?? process.env.EARSHOT_DEPLOY_CONFIG;
  if (file) raw = mergeConfig(raw, readJson(resolve(process.cwd(), file)));
  const single = (key: string): string | undefined => {
    const value = context(key);
    if (typeof value === 'string') return value === '' ? undefined : value;
    if (typeof value === 'number' || typeof value === 'boolean') return String(value);
    return value === undefined || value === null ? undefined : JSON.stringify(value);
  };
  const stackName = single('stackName');
  const profile = single('profile');
  const imageTag = single('imageTag');
  if (stackName) raw = mergeConfig(raw, { stackName });
  if (profile) raw = mergeConfig(raw, { profile });
  if (imageTag) raw = mergeConfig(raw, { task: { imageTag } });
  return parseConfig(raw, file ? `configuration (${file})` : 'configuration');
}

/** `-c key=value`, `--context key=value` and `--context=key=value` arguments, as the CDK CLI takes them. */
export function contextFromArgs(argv: readonly string[]): Record<string, string> {
  const context: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    const inline = /^--context=(.*)$/.exec(arg)?.[1];
    const pair = inline ?? (arg === '-c' || arg === '--context' ? argv[++i] : undefined);
    if (pair === undefined) continue;
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new ConfigError(`Context must be key=value, got "${pair}"`);
    context[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return context;
}

/**
 * Context as the CDK CLI passes it (`cdk synth -c …`), or, when run directly (`npm run synth -- -c …`,
 * `npm run cost`), from the command line over cdk.json.
 */
export function contextReader(
  tryGetContext: (key: string) => unknown,
  argv: readonly string[] = process.argv.slice(2),
): (key: string) => unknown {
  if (process.env.CDK_CONTEXT_JSON !== undefined) return tryGetContext;
  const cdkJson = readJson(resolve(infraDir, 'cdk.json')) as { context?: Record<string, unknown> };
  const args = contextFromArgs(argv);
  return (key) => tryGetContext(key) ?? args[key] ?? cdkJson.context?.[key];
}
