/** `earshot store init` for DynamoDB: the table (created if missing, checked if present) and the audio bucket. */
import { DescribeTableCommand, type TableDescription } from '@aws-sdk/client-dynamodb';
import { HeadBucketCommand } from '@aws-sdk/client-s3';
import type { StoreLocation } from '../config.js';
import { StoreUnavailableError } from '../errors.js';
import { awsError } from './aws-errors.js';
import { clientsFromEnv } from './store.js';
import { createTableIfMissing } from './table.js';
import { STORE_TABLE } from './table-definition.js';

export async function initTable(
  location: Extract<StoreLocation, { kind: 'dynamodb' }>,
  env: NodeJS.ProcessEnv,
): Promise<string[]> {
  const { dynamodb, s3 } = clientsFromEnv(env);
  try {
    const { table, audio } = location;
    let created;
    try {
      created = await createTableIfMissing(dynamodb, table);
    } catch (error) {
      throw awsError(error, `create the DynamoDB table ${table}`);
    }
    const description = await dynamodb
      .send(new DescribeTableCommand({ TableName: table }))
      .catch((error: unknown) => {
        throw awsError(error, `describe the DynamoDB table ${table}`);
      });
    checkSchema(table, description.Table);
    try {
      await s3.send(new HeadBucketCommand({ Bucket: audio.bucket }));
    } catch (error) {
      throw awsError(error, `reach the audio bucket s3://${audio.bucket}`);
    }
    return [
      `DynamoDB table ${table}: ${created.created ? 'created' : 'already there, with the expected keys'}; ` +
        `expiry (TTL on "${STORE_TABLE.timeToLiveAttribute}") ${created.timeToLive === 'enabled' ? 'on' : 'not supported by this endpoint (expired items are hidden when read)'}.`,
      `Audio: s3://${audio.bucket}/${audio.prefix} reachable.`,
    ];
  } finally {
    dynamodb.destroy();
    s3.destroy();
  }
}

/** A table that exists with other keys (made by hand, or for something else) is refused, not used. */
function checkSchema(table: string, description: TableDescription | undefined): void {
  const keys = (description?.KeySchema ?? []).map((key) => `${key.AttributeName}:${key.KeyType}`).sort();
  const index = description?.LocalSecondaryIndexes?.find(
    (candidate) => candidate.IndexName === STORE_TABLE.historyIndex.name,
  );
  const indexKeys = (index?.KeySchema ?? []).map((key) => `${key.AttributeName}:${key.KeyType}`).sort();
  const expected = [`${STORE_TABLE.partitionKey.name}:HASH`, `${STORE_TABLE.sortKey.name}:RANGE`].sort();
  const expectedIndex = [
    `${STORE_TABLE.partitionKey.name}:HASH`,
    `${STORE_TABLE.historyIndex.sortKey.name}:RANGE`,
  ].sort();
  if (keys.join() !== expected.join() || indexKeys.join() !== expectedIndex.join()) {
    throw new StoreUnavailableError(
      `The DynamoDB table ${table} exists with other keys than Earshot's (${keys.join(', ') || 'none'}; ` +
        `index ${STORE_TABLE.historyIndex.name}: ${indexKeys.join(', ') || 'missing'}). Point EARSHOT_STORE ` +
        'at another table name, and run "earshot store init" again to create it.',
    );
  }
}
