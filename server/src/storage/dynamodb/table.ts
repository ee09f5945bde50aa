import {
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  UpdateTimeToLiveCommand,
  type CreateTableCommandInput,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { setTimeout as sleep } from 'node:timers/promises';
import { StoreUnavailableError } from '../errors.js';
import { STORE_TABLE } from './table-definition.js';

export function createTableInput(tableName: string): CreateTableCommandInput {
  const { partitionKey, sortKey, historyIndex } = STORE_TABLE;
  return {
    TableName: tableName,
    BillingMode: STORE_TABLE.billingMode,
    AttributeDefinitions: [
      { AttributeName: partitionKey.name, AttributeType: partitionKey.type },
      { AttributeName: sortKey.name, AttributeType: sortKey.type },
      { AttributeName: historyIndex.sortKey.name, AttributeType: historyIndex.sortKey.type },
    ],
    KeySchema: [
      { AttributeName: partitionKey.name, KeyType: 'HASH' },
      { AttributeName: sortKey.name, KeyType: 'RANGE' },
    ],
    LocalSecondaryIndexes: [
      {
        IndexName: historyIndex.name,
        KeySchema: [
          { AttributeName: partitionKey.name, KeyType: 'HASH' },
          { AttributeName: historyIndex.sortKey.name, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: historyIndex.projection },
      },
    ],
  };
}

export interface CreateTableResult {
  readonly created: boolean;
  /** `unsupported`: the endpoint has no TTL API (dynalite); items then expire only by read filters. */
  readonly timeToLive: 'enabled' | 'unsupported';
}

/**
 * Creates the table if it does not exist, waits until it is ACTIVE and turns TTL on. Point-in-time
 * recovery and the encryption key are the CDK app's business (deployed tables); this is for tests,
 * local DynamoDB and first runs.
 */
export async function createTableIfMissing(
  client: DynamoDBClient,
  tableName: string,
  options: { pollMs?: number; timeoutMs?: number } = {},
): Promise<CreateTableResult> {
  let created = false;
  try {
    await client.send(new CreateTableCommand(createTableInput(tableName)));
    created = true;
  } catch (error) {
    if ((error as { name?: string }).name !== 'ResourceInUseException') throw error;
  }
  const deadline = Date.now() + (options.timeoutMs ?? 120_000);
  for (;;) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    if (Table?.TableStatus === 'ACTIVE') break;
    if (Date.now() > deadline) {
      throw new StoreUnavailableError(
        `Table ${tableName} is still ${Table?.TableStatus ?? 'unknown'}; try again.`,
      );
    }
    await sleep(options.pollMs ?? 1000);
  }
  return { created, timeToLive: await enableTimeToLive(client, tableName) };
}

async function enableTimeToLive(
  client: DynamoDBClient,
  tableName: string,
): Promise<'enabled' | 'unsupported'> {
  const described = await client.send(new DescribeTimeToLiveCommand({ TableName: tableName }));
  const status = described.TimeToLiveDescription?.TimeToLiveStatus;
  if (status === 'ENABLED' || status === 'ENABLING') return 'enabled';
  try {
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: { Enabled: true, AttributeName: STORE_TABLE.timeToLiveAttribute },
      }),
    );
    return 'enabled';
  } catch (error) {
    if (/UnknownOperation/.test((error as { name?: string }).name ?? '')) return 'unsupported';
    throw error;
  }
}
