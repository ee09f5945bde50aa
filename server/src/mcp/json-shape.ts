/**
 * Shape checks shared by the hand-written recognisers of plain requests (envelope.ts, legacy-call.ts, speak's
 * quickArgs), which stand in for zod schemas on the way to the first audio; each recogniser's test holds it
 * against the schema it stands in for.
 */

/** An object as JSON.parse makes them: not null, not an array, Object's own prototype. */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    Object.getPrototypeOf(value) === Object.prototype
  );
}

/** A JSON-RPC id or progress token as the SDK's schemas take them: a string or a safe integer. */
export function isIdOrToken(value: unknown): value is string | number {
  return typeof value === 'string' || Number.isSafeInteger(value);
}
