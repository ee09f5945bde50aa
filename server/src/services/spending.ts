import type { UserSettings } from '@earshot/protocol';
import type { Logger } from 'pino';
import { EarshotError } from '../errors.js';
import type { Hub, KeepPolicy, SpeechHandle, SpeechJob } from '../hub/index.js';
import type { Store, UsageAmount } from '../storage/index.js';
import { DailyBudget } from './budget.js';
import type { SettingsService } from './settings.js';

/**
 * The one way into spending: every request that costs credits books the daily budget in the store first
 * (refused before anything is spent when over budget or when the store cannot record), decides what is
 * kept (retention, room in the audio quota), and settles the booking with what it really spent.
 */
export class SpendingGate {
  readonly budget: DailyBudget;

  constructor(
    private readonly hub: Hub,
    private readonly store: Store,
    private readonly settings: SettingsService,
    log: Logger,
    storeRetryDelaysMs?: readonly number[],
  ) {
    this.budget = new DailyBudget(store, settings, log, storeRetryDelaysMs);
  }

  /** Books `characters` and queues the job; its booking is settled when it ends (given back if it never ran). */
  async queue(
    user: string,
    saved: UserSettings,
    characters: number,
    job: Omit<SpeechJob, 'keep' | 'recordUsage'>,
  ): Promise<SpeechHandle> {
    const keep = await this.keepPolicy(user, saved, job.saveAudio, job.silent === true);
    const reservation = await this.budget.reserve(user, characters, saved);
    try {
      return this.hub.speak({
        ...job,
        keep,
        recordUsage: (outcome) => this.budget.settle(reservation, outcome),
      });
    } catch (error) {
      void this.budget.settle(reservation, { spent: false, characters: 0, credits: 0 });
      throw error;
    }
  }

  /**
   * Runs one paid call that is not a speech (a voice design): books nothing but passes the same checks
   * first, then records what `spend` cost.
   */
  async once<T>(
    user: string,
    saved: UserSettings,
    spend: () => Promise<T>,
    cost: (result: T) => UsageAmount,
    /** Characters held against the daily budget while `spend` runs (refused up front when over it). */
    reserveCharacters = 0,
  ): Promise<T> {
    const reservation = await this.budget.reserve(user, reserveCharacters, saved);
    let result: T;
    try {
      result = await spend();
    } catch (error) {
      void this.budget.settle(reservation, { spent: false, characters: 0, credits: 0 });
      throw error;
    }
    await this.budget.settle(reservation, { spent: true, ...cost(result) });
    return result;
  }

  /**
   * Retention and room left in the audio quota. Audio that must be kept to be returned (text_to_speech)
   * is refused up front when the quota is used up; played speech then plays without keeping its audio.
   */
  async keepPolicy(
    user: string,
    saved: UserSettings,
    saveAudio: boolean,
    mustKeepAudio: boolean,
  ): Promise<KeepPolicy> {
    const limits = this.settings.effective(saved);
    let audioRoomBytes: number | null = null;
    if (saveAudio && limits.audioQuotaBytes !== null) {
      audioRoomBytes = Math.max(0, limits.audioQuotaBytes - (await this.store.getAudioUsage(user)).bytes);
      if (mustKeepAudio && audioRoomBytes === 0) {
        throw new EarshotError(
          'quota_exceeded',
          `Your audio storage quota (${Math.round(limits.audioQuotaBytes / 1024 / 1024)} MB) is used up, so ` +
            'no audio can be kept to return. Delete history items (delete_history_item) or raise your audio ' +
            'quota in settings, then retry. Nothing was spent.',
        );
      }
    }
    return { retentionDays: limits.audioRetentionDays, audioRoomBytes };
  }
}
