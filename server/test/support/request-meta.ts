/**
 * `_meta` values of a JSON-RPC request that differ only in their progress token (absent, valid, or not what the
 * SDK's schema takes): shared by the corpus tests that hold a hand-written recogniser against the SDK's schemas.
 */
export const PROGRESS_TOKEN_METAS: readonly unknown[] = [
  undefined,
  {},
  { progressToken: 'p' },
  { progressToken: 7 },
  { progressToken: -7 },
  { progressToken: 1.5 },
  { progressToken: 2 ** 60 },
  { progressToken: null },
  { progressToken: {} },
];
