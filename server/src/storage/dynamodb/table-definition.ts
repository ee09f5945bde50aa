/**
 * The DynamoDB table, defined once for `earshot store init` (createTableIfMissing) and the CDK app
 * (infra data-store construct): plain data, no SDK import, so infra can read it without the AWS SDK.
 *
 * Single-table layout, one partition per user (`PK = u#<user>`):
 * - `SK = settings` — one attribute per field, `s_<field>` and `v_<voice setting>` (JSON values), so a
 *   patch SETs only its own fields;
 * - `SK = h#<id>` — a history item (`doc`), `ts = <createdAt>#<id>` (the local index's sort key, newest
 *   first), `q` (lower-cased text and voice name, for search), `exp` (ms) and `ttl` (s) when it expires,
 *   `audioBytes`;
 * - `SK = d#<YYYY-MM-DD>` — a usage day: `chars`, `credits`, `booked` (chars + outstanding reservations)
 *   and one `r_<id>` attribute per outstanding reservation (`{ n, exp }`), so every budget change is one
 *   conditional UpdateItem on one item;
 * - `SK = a#<expiry day>` — audio bytes of items expiring that day (`9999-12-31`: never), for the quota;
 * - `SK = c#<cache key>` — `id` of the newest completed item with audio for that request (checked on read).
 * - `SK = g#<id>` — an OAuth grant of the user (`doc`, `exp`, `ttl`).
 * `PK = meta, SK = ready` is the readiness probe's write. OAuth codes and tokens (by hash), pending requests and
 * registered clients have partitions of their own (`oauth#s#…`, `oauth#r#…`, `oauth#c#…`): see oauth.ts.
 *
 * The local secondary index `byTime` (not a GSI: strongly consistent reads, no extra write path) lists a
 * user's history newest first; only history items carry `ts`, so only they are in it. LSIs limit one
 * user's items to 10 GB, far above history metadata (audio lives in S3).
 */
export const STORE_TABLE = {
  partitionKey: { name: 'PK', type: 'S' },
  sortKey: { name: 'SK', type: 'S' },
  historyIndex: { name: 'byTime', sortKey: { name: 'ts', type: 'S' }, projection: 'ALL' },
  /** Epoch seconds; DynamoDB deletes expired history items (free) — reads filter them out before that. */
  timeToLiveAttribute: 'ttl',
  billingMode: 'PAY_PER_REQUEST',
} as const;
