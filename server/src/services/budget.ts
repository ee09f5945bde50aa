import { EarshotError } from '../errors.js';
import type { Store } from '../store/index.js';
import type { SettingsService } from './settings.js';

export interface BudgetStatus {
  readonly limit: number | null;
  readonly used: number;
  readonly remaining: number | null;
  readonly resetsAt: string;
}

/**
 * The per-user daily character budget (UTC days). A request is refused before anything is spent when the
 * characters used today plus those already queued would pass the limit.
 */
export class DailyBudget {
  /** Characters accepted but not yet counted in the store's usage, per user. */
  private readonly reserved = new Map<string, number>();

  constructor(
    private readonly store: Store,
    private readonly settings: SettingsService,
    private readonly serverLimit: number | undefined,
  ) {}

  /** `ownLimit`: the user's saved daily limit when the caller has the settings already (saves a read). */
  async status(user: string, ownLimit?: number | null): Promise<BudgetStatus> {
    const [today] = await this.store.getUsage(user, 1);
    const used = (today?.characters ?? 0) + (this.reserved.get(user) ?? 0);
    const own = ownLimit === undefined ? (await this.settings.get(user)).dailyCharLimit : ownLimit;
    const limit = own ?? this.serverLimit ?? null;
    return {
      limit,
      used,
      remaining: limit === null ? null : Math.max(0, limit - used),
      resetsAt: nextUtcMidnight().toISOString(),
    };
  }

  /** Reserves `characters` or throws quota_exceeded; the returned function releases the reservation. */
  async reserve(user: string, characters: number, ownLimit: number | null): Promise<() => void> {
    const status = await this.status(user, ownLimit);
    if (status.remaining !== null && characters > status.remaining) {
      throw new EarshotError(
        'quota_exceeded',
        `This would pass today's budget of ${status.limit} characters: ${status.remaining} left, this text has ` +
          `${characters}. The budget resets at ${status.resetsAt} (UTC midnight); shorten the text or raise the ` +
          'daily limit in settings.',
      );
    }
    this.reserved.set(user, (this.reserved.get(user) ?? 0) + characters);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.reserved.set(user, Math.max(0, (this.reserved.get(user) ?? 0) - characters));
    };
  }
}

function nextUtcMidnight(): Date {
  const now = new Date();
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1));
}
