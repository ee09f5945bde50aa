/** The few DynamoDB calls the store makes, each mapping failures to StoreErrors. */
import {
  GetCommand,
  QueryCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { checkUser } from '../shared.js';
import { awsError } from './aws-errors.js';

export type Key = { PK: string; SK: string };

/** A user's partition. */
export function pk(user: string): string {
  checkUser(user);
  return `u#${user}`;
}

export class TableClient {
  constructor(
    readonly doc: DynamoDBDocumentClient,
    readonly table: string,
  ) {}

  async call<T>(what: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw awsError(error, what);
    }
  }

  /** A strongly consistent read of one item. */
  async get(what: string, key: Key): Promise<Record<string, unknown> | undefined> {
    const result = await this.call(what, () =>
      this.doc.send(new GetCommand({ TableName: this.table, Key: key, ConsistentRead: true })),
    );
    return result.Item;
  }

  async update(
    what: string,
    input: Omit<UpdateCommandInput, 'TableName'>,
  ): Promise<Record<string, unknown> | undefined> {
    const result = await this.call(what, () =>
      this.doc.send(new UpdateCommand({ TableName: this.table, ...input })),
    );
    return result.Attributes;
  }

  /** Every item of the user's partition with a sort key between `from` and `to` (inclusive). */
  async range(what: string, user: string, from: string, to: string): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.call(what, () =>
        this.doc.send(
          new QueryCommand({
            TableName: this.table,
            KeyConditionExpression: 'PK = :pk AND SK BETWEEN :from AND :to',
            ExpressionAttributeValues: { ':pk': pk(user), ':from': from, ':to': to },
            ConsistentRead: true,
            ExclusiveStartKey: startKey,
          }),
        ),
      );
      items.push(...(page.Items ?? []));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return items;
  }
}
