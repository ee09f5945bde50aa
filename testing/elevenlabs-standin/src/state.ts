import { LIBRARY_VOICES, libraryVoiceAsFixture } from './fixtures/library.js';
import { VOICE_FIXTURES, type VoiceFixture } from './fixtures/voices.js';

/** A voice preview made by voice design, waiting to be saved with `POST /v1/text-to-voice`. */
export interface VoicePreview {
  readonly generatedVoiceId: string;
  readonly fliteVoice: VoiceFixture['fliteVoice'];
  readonly description: string;
}

/** Every voice the stand-in can speak: the premade fixtures, voices saved from voice design, library voices. */
export class VoiceRegistry {
  private readonly saved: VoiceFixture[] = [];
  private readonly previews = new Map<string, VoicePreview>();
  private readonly library = new Map(
    LIBRARY_VOICES.map((voice) => [voice.voiceId, libraryVoiceAsFixture(voice)]),
  );

  /** The account's own voices (premade and saved), as `/v1/voices` and `/v2/voices` list them. */
  get own(): readonly VoiceFixture[] {
    return [...VOICE_FIXTURES, ...this.saved];
  }

  find(voiceId: string): VoiceFixture | undefined {
    return this.own.find((voice) => voice.voiceId === voiceId) ?? this.library.get(voiceId);
  }

  addPreview(preview: VoicePreview): void {
    this.previews.set(preview.generatedVoiceId, preview);
    while (this.previews.size > 300) this.previews.delete(this.previews.keys().next().value!);
  }

  preview(generatedVoiceId: string): VoicePreview | undefined {
    return this.previews.get(generatedVoiceId);
  }

  save(voice: VoiceFixture): void {
    this.saved.push(voice);
  }
}

export interface HistoryItem {
  readonly historyItemId: string;
  readonly requestId: string;
  readonly voiceId: string;
  readonly voiceName: string;
  readonly voiceCategory: 'premade' | 'generated' | 'cloned' | 'professional';
  readonly modelId: string;
  readonly text: string;
  readonly dateUnix: number;
  readonly characterCountFrom: number;
  readonly characterCountTo: number;
  readonly contentType: string;
  readonly outputFormat: string;
  readonly settings: unknown;
  readonly dialogue: readonly { text: string; voice_id: string; voice_name: string }[] | null;
  readonly audio: Buffer;
}

/** The last `capacity` generations, newest first. */
export class HistoryStore {
  private items: HistoryItem[] = [];

  constructor(private readonly capacity = 100) {}

  add(item: HistoryItem): void {
    this.items.unshift(item);
    this.items.length = Math.min(this.items.length, this.capacity);
  }

  get all(): readonly HistoryItem[] {
    return this.items;
  }

  find(id: string): HistoryItem | undefined {
    return this.items.find((item) => item.historyItemId === id);
  }

  delete(id: string): boolean {
    const before = this.items.length;
    this.items = this.items.filter((item) => item.historyItemId !== id);
    return this.items.length < before;
  }
}

export function historyWireObject(item: HistoryItem) {
  return {
    history_item_id: item.historyItemId,
    request_id: item.requestId,
    voice_id: item.voiceId,
    model_id: item.modelId,
    voice_name: item.voiceName,
    voice_category: item.voiceCategory,
    text: item.text,
    date_unix: item.dateUnix,
    character_count_change_from: item.characterCountFrom,
    character_count_change_to: item.characterCountTo,
    content_type: item.contentType,
    state: 'created',
    settings: item.settings ?? null,
    share_link_id: null,
    source: 'TTS',
    alignments: null,
    dialogue: item.dialogue,
    output_format: item.outputFormat,
  };
}
