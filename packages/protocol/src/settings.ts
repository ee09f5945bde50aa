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
  /** Characters this user may speak per day (UTC); null uses the server's EARSHOT_DAILY_CHAR_LIMIT. */
  readonly dailyCharLimit: number | null;
}

export const DEFAULT_SETTINGS: UserSettings = {
  defaultVoice: null,
  defaultModel: null,
  voiceSettings: {},
  autoPlay: true,
  saveAudio: true,
  dailyCharLimit: null,
};
