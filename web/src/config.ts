/** Runtime configuration, read from `config.json` next to index.html so one build serves every origin. */
export interface ConsoleConfig {
  /** Where the API and `/ws` live; empty means the page's own origin. */
  readonly apiBaseUrl: string;
}

export async function loadConfig(): Promise<ConsoleConfig> {
  try {
    const response = await fetch('config.json', { cache: 'no-store' });
    if (!response.ok) return { apiBaseUrl: '' };
    const body = (await response.json()) as Partial<ConsoleConfig>;
    return { apiBaseUrl: typeof body.apiBaseUrl === 'string' ? body.apiBaseUrl.replace(/\/+$/, '') : '' };
  } catch {
    return { apiBaseUrl: '' };
  }
}

/** The API's origin as users and agents reach it: the configured base, else this page's origin. */
export function apiOrigin(config: ConsoleConfig): string {
  return config.apiBaseUrl || location.origin;
}
