import type { Model, Voice } from '@earshot/protocol';
import { EarshotError } from '../errors.js';
import type { VoiceEngine } from './types.js';

const CACHE_MS = 5 * 60_000;
const ELEVENLABS_VOICE_ID = /^[A-Za-z0-9]{20}$/;

interface Cached<T> {
  value: Promise<T>;
  at: number;
}

/**
 * Voices and models of the engine, cached for a few minutes, and the rules for turning what an agent
 * wrote ("rachel", a voice id) into a voice.
 */
export class VoiceCatalog {
  private voices: Cached<Voice[]> | undefined;
  private models: Cached<Model[]> | undefined;

  constructor(private readonly engine: VoiceEngine) {}

  /** Forget the cached voices (after a voice is added). */
  invalidateVoices(): void {
    this.voices = undefined;
  }

  listVoices(): Promise<Voice[]> {
    this.voices = this.fresh(this.voices, () => this.engine.listVoices());
    return this.voices.value;
  }

  listModels(): Promise<Model[]> {
    this.models = this.fresh(this.models, () => this.engine.listModels());
    return this.models.value;
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

  private fresh<T>(cached: Cached<T> | undefined, load: () => Promise<T>): Cached<T> {
    if (cached && Date.now() - cached.at < CACHE_MS) return cached;
    const entry: Cached<T> = { value: load(), at: Date.now() };
    // A failed load must not be cached: the next call tries again.
    entry.value.catch(() => {
      entry.at = 0;
    });
    return entry;
  }
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
