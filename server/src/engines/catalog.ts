import type { Model, Voice } from '@earshot/protocol';
import { EarshotError } from '../errors.js';
import type { Logger } from 'pino';
import type { VoiceEngine } from './types.js';

/** How long a loaded list is served without asking the engine again. */
export const CATALOG_FRESH_MS = 5 * 60_000;
/** After a background refresh failed, the next one waits this long (the list in hand is served meanwhile). */
export const CATALOG_RETRY_MS = 30_000;
const ELEVENLABS_VOICE_ID = /^[A-Za-z0-9]{20}$/;

/**
 * One list from the engine, served stale while it is refreshed: a call that finds it older than
 * CATALOG_FRESH_MS gets the list in hand at once and starts one refresh in the background, so no speech waits
 * for ElevenLabs' voice and model listings (two round trips) once they have loaded. Only the first load, and
 * the one after invalidate(), is waited for; a failed one is not kept, so the next call tries again.
 */
export class StaleWhileRefreshing<T> {
  private value: T | undefined;
  private loadedAt = 0;
  private failedAt: number | undefined;
  private loading: Promise<T> | undefined;
  /** Bumped by invalidate(): a load begun before it must not bring back what it replaced. */
  private generation = 0;

  constructor(
    private readonly load: () => Promise<T>,
    private readonly now: () => number = Date.now,
    /** Told of a background refresh that failed (the list in hand is still served). */
    private readonly onRefreshError: (error: unknown) => void = () => undefined,
  ) {}

  get(): Promise<T> {
    if (this.value === undefined) return this.loading ?? this.refresh();
    const now = this.now();
    const stale = now - this.loadedAt >= CATALOG_FRESH_MS;
    const mayRetry = this.failedAt === undefined || now - this.failedAt >= CATALOG_RETRY_MS;
    if (stale && mayRetry && !this.loading) this.refresh().catch(this.onRefreshError);
    return Promise.resolve(this.value);
  }

  /** Forgets the list: the next call waits for a fresh one. */
  invalidate(): void {
    this.value = undefined;
    this.loading = undefined;
    this.generation += 1;
  }

  private refresh(): Promise<T> {
    const generation = this.generation;
    const loading = this.load().then(
      (value) => {
        if (generation === this.generation) {
          this.value = value;
          this.loadedAt = this.now();
          this.failedAt = undefined;
        }
        return value;
      },
      (error: unknown) => {
        if (generation === this.generation) this.failedAt = this.now();
        throw error;
      },
    );
    this.loading = loading;
    const done = () => {
      if (this.loading === loading) this.loading = undefined;
    };
    loading.then(done, done);
    return loading;
  }
}

/**
 * Voices and models of the engine, cached for a few minutes, and the rules for turning what an agent
 * wrote ("rachel", a voice id) into a voice.
 */
export class VoiceCatalog {
  private readonly voices: StaleWhileRefreshing<Voice[]>;
  private readonly models: StaleWhileRefreshing<Model[]>;
  private readonly log: Pick<Logger, 'warn'> | undefined;

  constructor(
    private readonly engine: VoiceEngine,
    options: {
      readonly now?: () => number;
      /** Where a list that could not load is reported (at start-up, or refreshed in the background). */
      readonly log?: Pick<Logger, 'warn'>;
    } = {},
  ) {
    const log = options.log;
    const refreshFailed = (list: string) => (error: unknown) =>
      log?.warn(
        { err: error, list },
        `could not refresh the ${list} list from the voice engine; the one loaded earlier is used meanwhile`,
      );
    this.voices = new StaleWhileRefreshing(() => engine.listVoices(), options.now, refreshFailed('voice'));
    this.models = new StaleWhileRefreshing(
      async () => markDefault(await engine.listModels(), engine.defaultModelId),
      options.now,
      refreshFailed('model'),
    );
    this.log = log;
  }

  /**
   * Loads both lists ahead of the first call (at start-up), so no speech waits for them. Resolves once both
   * loads have ended. A failure (a wrong ElevenLabs key, no network) is logged, so it shows at start rather than
   * at the first speech, and not kept: the first call that needs the list tries again and reports it.
   */
  async warm(): Promise<void> {
    const [voices, models] = await Promise.allSettled([this.listVoices(), this.listModels()]);
    for (const [list, result] of [
      ['voice', voices],
      ['model', models],
    ] as const) {
      if (result.status === 'rejected')
        this.log?.warn(
          { err: result.reason, list },
          `could not load the ${list} list at start; the first speech will try again`,
        );
    }
  }

  /** Forget the cached voices (after a voice is added): the next call waits for the new list. */
  invalidateVoices(): void {
    this.voices.invalidate();
  }

  listVoices(): Promise<Voice[]> {
    return this.voices.get();
  }

  listModels(): Promise<Model[]> {
    return this.models.get();
  }

  async searchVoices(search: string | undefined): Promise<Voice[]> {
    const voices = await this.listVoices();
    const needle = search?.trim().toLowerCase();
    if (!needle) return voices;
    // Match the starts of words, so "male" finds male voices but not "female" ones.
    return voices.filter((voice) => {
      const haystack = [voice.name, voice.id, voice.description ?? '', ...Object.values(voice.labels)]
        .join(' ')
        .toLowerCase();
      return (
        haystack.split(/[^\p{L}\p{N}]+/u).some((word) => word.startsWith(needle)) ||
        (needle.includes(' ') && haystack.includes(needle))
      );
    });
  }

  /** A voice by id or by name (case-insensitive); the first voice when nothing is asked or saved. */
  async resolveVoice(requested: string | null | undefined): Promise<Voice> {
    const voices = await this.listVoices();
    if (voices.length === 0) {
      throw new EarshotError(
        'unknown_voice',
        'The voice engine lists no voices; add a voice in ElevenLabs first.',
      );
    }
    if (!requested) return voices[0]!;
    const wanted = requested.trim().toLowerCase();
    const match =
      voices.find((voice) => voice.id === requested.trim()) ??
      voices.find((voice) => voice.name.toLowerCase() === wanted) ??
      voices.find((voice) => voice.name.toLowerCase().split(/\s+-\s+|\s+/)[0] === wanted);
    if (match) return match;
    // ElevenLabs takes voices that are not in the account's list (shared library voices) by id; it answers
    // 404 itself if the id is wrong.
    if (this.engine.name === 'elevenlabs' && ELEVENLABS_VOICE_ID.test(requested.trim())) {
      return { id: requested.trim(), name: requested.trim(), category: 'library', labels: {} };
    }
    const closest = [...voices]
      .sort((a, b) => distance(a.name.toLowerCase(), wanted) - distance(b.name.toLowerCase(), wanted))
      .slice(0, 3)
      .map((voice) => `"${voice.name}"`);
    throw new EarshotError(
      'unknown_voice',
      `No voice is called "${requested}". Closest: ${closest.join(', ')}. Call list_voices to see them all.`,
    );
  }

  /** Checks a model id and the text length against that model's limit. */
  async resolveModel(requested: string | null | undefined, textLength: number): Promise<Model> {
    const models = await this.listModels();
    const id = requested ?? this.engine.defaultModelId;
    const model = models.find((candidate) => candidate.id === id);
    if (!model) {
      throw new EarshotError(
        'unknown_model',
        `No model "${id}". Available: ${models.map((m) => m.id).join(', ')}.`,
      );
    }
    if (model.maxCharacters !== undefined && textLength > model.maxCharacters) {
      throw new EarshotError(
        'text_too_long',
        `The text has ${textLength} characters; ${model.id} takes at most ${model.maxCharacters}. Split it or pick another model.`,
      );
    }
    return model;
  }
}

/** The list with the engine's default model marked, so clients can say what "the default" is. */
function markDefault(models: Model[], defaultId: string): Model[] {
  return models.map((model) => (model.id === defaultId ? { ...model, isDefault: true } : model));
}

/** Levenshtein distance, for "did you mean" suggestions. */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length]!;
}
