import type { UserSettings } from './settings.js';

/**
 * The player channel (`GET /ws`): what the server and a browser player say to each other.
 * Text frames carry these JSON messages; binary frames carry the audio of the speech most recently
 * started and not yet ended, in order.
 */

/** Subprotocol the server selects; the client also offers `bearer.<base64url(key)>` to authenticate. */
export const PLAYER_SUBPROTOCOL = 'earshot.v1';
export const BEARER_SUBPROTOCOL_PREFIX = 'bearer.';
/**
 * An in-chat (MCP Apps) player offers its speech's short-lived token as `speech-token.<token>` instead of a key:
 * it hears that one speech (and may stop it), nothing else.
 */
export const SPEECH_TOKEN_SUBPROTOCOL_PREFIX = 'speech-token.';

export interface AudioFormat {
  /**
   * `audio/ogg; codecs=opus` (the default: Ogg Opus pages, see ogg.ts) or `audio/pcm` (signed 16-bit
   * little-endian, for players that cannot decode Opus and for audio stored before Opus).
   */
  readonly mimeType: 'audio/ogg; codecs=opus' | 'audio/pcm';
  readonly sampleRate?: number;
  readonly channels?: number;
}

export interface VoiceRef {
  readonly id: string;
  readonly name: string;
}

/** Where a speech request came from, shown in history and the player. */
export type SpeechSource = 'mcp' | 'console' | 'cli' | 'api';

export interface HelloMessage {
  readonly type: 'hello';
  readonly user: string;
  readonly engine: string;
}
export interface SpeechStartMessage {
  readonly type: 'speech.start';
  readonly id: string;
  readonly text: string;
  readonly voice: VoiceRef;
  readonly audio: AudioFormat;
  readonly source: SpeechSource;
}
export interface SpeechAlignmentMessage {
  readonly type: 'speech.alignment';
  readonly id: string;
  readonly chars: readonly string[];
  readonly startMs: readonly number[];
  readonly durationMs: readonly number[];
}
export interface SpeechEndMessage {
  readonly type: 'speech.end';
  readonly id: string;
  readonly durationMs: number;
  readonly bytes: number;
}
export interface SpeechErrorMessage {
  readonly type: 'speech.error';
  readonly id: string;
  readonly code: string;
  readonly message: string;
}
export interface SpeechStoppedMessage {
  readonly type: 'speech.stopped';
  readonly id: string;
}
export interface SettingsChangedMessage {
  readonly type: 'settings.changed';
  readonly settings: UserSettings;
}
export interface PongMessage {
  readonly type: 'pong';
}

export type ServerMessage =
  | HelloMessage
  | SpeechStartMessage
  | SpeechAlignmentMessage
  | SpeechEndMessage
  | SpeechErrorMessage
  | SpeechStoppedMessage
  | SettingsChangedMessage
  | PongMessage;

/**
 * What a player can do, sent at connect and on every change. `accept`: the audio types it decodes, in order
 * of preference; a player that never sends it gets Ogg Opus. `audio`: whether anyone can hear it.
 */
export interface PlayerStateMessage {
  readonly type: 'state';
  readonly audio?: 'on' | 'off';
  readonly accept?: readonly string[];
}

export type ClientMessage =
  | { readonly type: 'stop' }
  | { readonly type: 'played'; readonly id: string }
  | { readonly type: 'ping' }
  | PlayerStateMessage;

/** Close codes the server uses besides the standard ones (1001 going away, 1008 policy). */
export const CLOSE_CODES = {
  goingAway: 1001,
  policyViolation: 1008,
  /** The player fell too far behind (its send buffer passed the limit); reconnecting resets it. */
  tooSlow: 4000,
  /**
   * Behind the AWS proxy: the proxy now routes this user to another server (a task came or went). Reconnect at
   * once; the proxy sends the new connection to the right server.
   */
  moved: 4001,
} as const;
