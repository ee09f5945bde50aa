import type { UserSettings } from '@earshot/protocol';
import type { Logger } from 'pino';
import { EarshotError, toEarshotError } from '../errors.js';
import type { SpeechOutcome } from '../hub/index.js';
import { STORE_RETRY_DELAYS_MS, writeNowOrRetry } from '../hub/retry.js';
import { StoreError, type Reservation, type Store } from '../storage/index.js';
import type { SettingsService } from './settings.js';

export interface BudgetStatus {
  readonly limit: number | null;
  /** Characters spoken today plus those booked by speeches still running or queued. */
  readonly used: number;
  readonly remaining: number | null;
  readonly resetsAt: string;
}

/**
 * The per-user daily character budget (UTC days), kept in the store so it holds across processes and
 * tasks: every speech that spends books its characters first (one atomic reservation), and settles the
 * booking with what it really spent when it ends. A store that cannot book refuses the speech before
 * anything is spent (fail closed: this is where money goes).
 */
export class DailyBudget {
  constructor(
    private readonly store: Store,
    private readonly settings: SettingsService,
    private readonly log: Logger,
    private readonly retryDelaysMs: readonly number[] = STORE_RETRY_DELAYS_MS,
  ) {}

  /** `saved`: the user's settings when the caller has them already (saves a read). */
  async status(user: string, saved?: UserSettings): Promise<BudgetStatus> {
    const [today] = await this.store.getUsage(user, 1);
    const used = (today?.characters ?? 0) + (today?.reserved ?? 0);
    const limit = this.settings.effective(saved ?? (await this.settings.get(user))).dailyCharLimit;
    return {
      limit,
      used,
      remaining: limit === null ? null : Math.max(0, limit - used),
      resetsAt: nextUtcMidnight().toISOString(),
    };
  }

  /** Books `characters` for today, or throws quota_exceeded (over budget) or store_unavailable. */
  async reserve(user: string, characters: number, saved: UserSettings): Promise<Reservation> {
    const limit = this.settings.effective(saved).dailyCharLimit;
    let decision;
    try {
      decision = await this.store.reserveBudget({ user, characters, limit });
    } catch (error) {
      if (!(error instanceof StoreError)) throw error;
      const refusal = toEarshotError(error);
      throw new EarshotError(refusal.code, `Refused before anything was spent: ${refusal.message}`, {
        cause: error,
        retryAfterSeconds: refusal.retryAfterSeconds,
      });
    }
    if (!decision.ok) {
      const remaining = Math.max(0, decision.limit - decision.used);
      throw new EarshotError(
        'quota_exceeded',
        `This would pass today's budget of ${decision.limit} characters: ${remaining} left, this text has ` +
          `${characters}. The budget resets at ${nextUtcMidnight().toISOString()} (UTC midnight); shorten ` +
          'the text or raise the daily limit in settings (up to the server’s).',
      );
    }
    return decision.reservation;
  }

  /**
   * Settles a reservation with the outcome: what was spent becomes usage, a speech that never reached the
   * engine gives it all back. Resolves after the first attempt; a failed write retries in the background,
   * and until it lands the booking still counts, so the budget is never overrun.
   */
  async settle(reservation: Reservation, outcome: Pick<SpeechOutcome, 'spent' | 'characters' | 'credits'>) {
    const write = outcome.spent
      ? () =>
          this.store.commitReservation(reservation, {
            characters: outcome.characters,
            credits: outcome.credits,
          })
      : () => this.store.refundReservation(reservation);
    await writeNowOrRetry(
      write,
      this.log.child({ reservation: reservation.id }),
      'usage',
      this.retryDelaysMs,
    );
  }
}

function nextUtcMidnight(): Date {
  const now = new Date();
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1));
}
