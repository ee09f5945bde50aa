/**
 * How long the probe waits for /healthz. A closed port refuses at once, so this only bites on something that
 * accepts and then says nothing; a real server on a loaded machine (a build beside it, several CLIs starting at
 * once) or across the internet can take seconds, and taking it for "no server" sends the user the wrong way.
 */
const PROBE_TIMEOUT_MS = 10_000;

/** Whether an Earshot server answers at `baseUrl` (its /healthz) within PROBE_TIMEOUT_MS. */
export async function isEarshot(baseUrl: string): Promise<boolean> {
  try {
    const response = await fetch(`${baseUrl}/healthz`, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
    const body = (await response.json()) as { status?: unknown };
    return response.ok && body.status === 'ok';
  } catch {
    return false;
  }
}
