/**
 * Listing and searching a user's history in DynamoDB: a Query on the `byTime` local index, newest first,
 * strongly consistent (an item another task just wrote is listed at once).
 *
 * Search reads the user's partition in time order with a FilterExpression `contains(q, :needle)` on the
 * lower-cased text and voice name. DynamoDB bills the items read, not the items returned: a search costs
 * ~0.5 read units per 4 KB of history read (strongly consistent: 1), so one call reads at most
 * SEARCH_BUDGET items (~1,000 items of ~1 KB ≈ 250 RCU ≈ $0.00003) and returns a cursor to read on.
 */
import { QueryCommand, type DynamoDBDocumentClient, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import type { HistoryItem } from '@earshot/protocol';
import type { HistoryPage, HistoryQuery, StoredHistoryItem } from '../contract.js';
import { StoreInputError } from '../errors.js';
import { checkLimit, decodeCursor, encodeCursor, lowerSearch } from '../shared.js';
import { STORE_TABLE } from './table-definition.js';

export const SEARCH_BUDGET = 1000;
const SEARCH_PAGE = 250;

export interface HistoryRecord {
  PK: string;
  SK: string;
  ts: string;
  doc: string;
  q: string;
  audioBytes?: number;
  exp?: number;
  ttl?: number;
}

type Key = Record<'PK' | 'SK' | 'ts', string>;

export async function queryHistory(
  client: DynamoDBDocumentClient,
  table: string,
  pk: string,
  query: HistoryQuery,
  now: number,
): Promise<HistoryPage> {
  const limit = checkLimit(query);
  const needle = lowerSearch(query.search);
  let startKey: Record<string, unknown> | undefined = query.cursor ? readCursor(query.cursor, pk) : undefined;
  const values: Record<string, unknown> = { ':pk': pk, ':now': now };
  let keyCondition = 'PK = :pk';
  if (query.before) {
    if (!Number.isFinite(Date.parse(query.before))) {
      throw new StoreInputError(`before must be an ISO time, not ${JSON.stringify(query.before)}`);
    }
    keyCondition += ' AND ts < :before';
    values[':before'] = query.before;
  }
  let filter = '(attribute_not_exists(exp) OR exp > :now)';
  if (needle) {
    filter += ' AND contains(q, :needle)';
    values[':needle'] = needle;
  }
  const found: HistoryRecord[] = [];
  let read = 0;
  for (;;) {
    const input: QueryCommandInput = {
      TableName: table,
      IndexName: STORE_TABLE.historyIndex.name,
      KeyConditionExpression: keyCondition,
      FilterExpression: filter,
      ExpressionAttributeValues: values,
      ScanIndexForward: false,
      ConsistentRead: true,
      // Without search one more than asked tells whether a next page exists.
      Limit: needle ? Math.min(SEARCH_PAGE, SEARCH_BUDGET - read) : limit + 1 - found.length,
      ExclusiveStartKey: startKey,
    };
    const page = await client.send(new QueryCommand(input));
    read += page.ScannedCount ?? 0;
    found.push(...((page.Items ?? []) as HistoryRecord[]));
    startKey = page.LastEvaluatedKey;
    if (found.length > limit) return result(found.slice(0, limit), true);
    if (!startKey) return result(found, false);
    if (found.length === limit && needle) return result(found, true);
    if (needle && read >= SEARCH_BUDGET)
      return { items: found.map(toItem), nextCursor: encodeCursor(startKey) };
  }
}

function result(records: HistoryRecord[], more: boolean): HistoryPage {
  const last = records[records.length - 1];
  return {
    items: records.map(toItem),
    nextCursor: more && last ? encodeCursor({ PK: last.PK, SK: last.SK, ts: last.ts } satisfies Key) : null,
  };
}

export function toItem(record: HistoryRecord): StoredHistoryItem {
  const item = JSON.parse(record.doc) as HistoryItem;
  return record.exp === undefined ? item : { ...item, expiresAt: new Date(record.exp).toISOString() };
}

/** A cursor names a key in this user's partition only: a forged one cannot read another user's items. */
function readCursor(cursor: string, pk: string): Key {
  const key = decodeCursor(cursor) as Partial<Key> | null;
  if (
    key?.PK !== pk ||
    typeof key.SK !== 'string' ||
    !key.SK.startsWith('h#') ||
    typeof key.ts !== 'string'
  ) {
    throw new StoreInputError('invalid history cursor: pass nextCursor from the previous page unchanged');
  }
  return { PK: key.PK, SK: key.SK, ts: key.ts };
}
