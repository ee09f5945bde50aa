import { parseArgs } from 'node:util';
import { loadConfig } from '../config/env.js';
import { importLegacyData, SqliteStore, type StoreLocation } from '../storage/index.js';
import { CliError } from './errors.js';
import { COMMAND_USAGE } from './usage.js';

/**
 * `earshot store init`: makes the store `earshot serve` will use ready. DynamoDB: creates the table if it is
 * missing, with the schema the CDK app deploys (table-definition.ts), turns TTL on, and checks the audio
 * bucket. SQLite: creates or migrates `earshot.db`, checks it for damage, imports an old JSON data folder.
 */
export async function store(argv: string[], env: NodeJS.ProcessEnv): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) return void process.stdout.write(`${COMMAND_USAGE.store}\n`);
  if (positionals[0] !== 'init' || positionals.length > 1) throw new CliError(COMMAND_USAGE.store, 2);
  const location = loadConfig(env).store;
  const lines =
    location.kind === 'dynamodb' ? await initDynamo(location, env) : await initSqlite(location.dataDir);
  process.stdout.write(`${lines.join('\n')}\n`);
}

async function initSqlite(dataDir: string): Promise<string[]> {
  const sqlite = SqliteStore.open({ dataDir, integrityCheck: 'quick', maintainOnOpen: false });
  try {
    const report = await importLegacyData(sqlite);
    const imported = report.alreadyImported
      ? 'old JSON files: imported before'
      : report.users === 0
        ? 'old JSON files: none'
        : `imported from old JSON files: ${report.historyItems} history items (${report.audioFiles} with ` +
          `audio), ${report.settings} settings, ${report.usageDays} usage days of ${report.users} users; ` +
          `the old files are kept${report.skipped.length ? `; skipped (unreadable): ${report.skipped.join(', ')}` : ''}`;
    return [`SQLite store ready: ${sqlite.path} (checked, schema up to date)`, imported];
  } finally {
    await sqlite.close();
  }
}

async function initDynamo(
  location: Extract<StoreLocation, { kind: 'dynamodb' }>,
  env: NodeJS.ProcessEnv,
): Promise<string[]> {
  // The AWS SDK only for this backend: a laptop never loads it.
  const { initTable } = await import('../storage/dynamodb/init.js');
  return initTable(location, env);
}
