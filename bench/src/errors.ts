/** An error with its causes, stacks included (fetch's "fetch failed" says what failed only in its cause). */
export function describeError(error: unknown): string {
  const parts: string[] = [];
  for (let current = error, depth = 0; current !== undefined && depth < 5; depth++) {
    if (!(current instanceof Error)) {
      parts.push(typeof current === 'string' ? current : JSON.stringify(current));
      break;
    }
    parts.push(current.stack ?? `${current.name}: ${current.message}`);
    current = current.cause;
  }
  return parts.join('\ncaused by: ');
}

/** The first line of each error in the chain: for notes in the results. */
export function summariseError(error: unknown): string {
  return describeError(error)
    .split('\ncaused by: ')
    .map((part) => part.split('\n')[0])
    .join(' ← ');
}
