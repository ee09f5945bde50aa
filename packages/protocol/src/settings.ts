/** Voice settings as ElevenLabs names them (snake_case, as in its REST API and Earshot's MCP tools). */
export interface VoiceSettings {
  readonly stability?: number;
  readonly similarity_boost?: number;
  readonly style?: number;
  readonly use_speaker_boost?: boolean;
  readonly speed?: number;
}

/** A user's saved preferences. */
export interface UserSettings {
  /** Voice id used when a request names none. */
  readonly defaultVoice: string | null;
  /** Model id used when a request names none. */
  readonly defaultModel: string | null;
  readonly voiceSettings: VoiceSettings;
  /** Players start audio as soon as it arrives. */
  readonly autoPlay: boolean;
  /** Keep generated audio in history so it can be replayed and downloaded. */
  readonly saveAudio: boolean;
  /**
   * Characters this user may speak per day (UTC); null: the server's EARSHOT_DAILY_CHAR_LIMIT. The server's
   * limit is a ceiling: a user may set a lower one, never a higher one.
   */
  readonly dailyCharLimit: number | null;
  /**
   * Days stored speech (history and audio) is kept; null: the server's EARSHOT_AUDIO_RETENTION_DAYS (kept until
   * deleted when the server sets none). Never more than the server's maximum.
   */
  readonly audioRetentionDays: number | null;
  /**
   * Megabytes of stored audio this user keeps at most (new audio past it is played but not kept); null: the
   * server's EARSHOT_AUDIO_QUOTA_MB (no cap when the server sets none). Never more than the server's maximum.
   */
  readonly audioQuotaMb: number | null;
}

/** What the server allows every user at most (its environment); null: no maximum. */
export interface ServerLimits {
  readonly dailyCharLimit: number | null;
  readonly audioRetentionDays: number | null;
  readonly audioQuotaMb: number | null;
}

export const DEFAULT_SETTINGS: UserSettings = {
  defaultVoice: null,
  defaultModel: null,
  voiceSettings: {},
  autoPlay: true,
  saveAudio: true,
  dailyCharLimit: null,
  audioRetentionDays: null,
  audioQuotaMb: null,
};
