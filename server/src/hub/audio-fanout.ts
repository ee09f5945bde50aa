import type { AudioFormat, ServerMessage, SpeechStartMessage } from '@earshot/protocol';
import type { Logger } from 'pino';
import { chooseMimeType, createTranscoder, type Transcoder } from '../audio/formats.js';
import type { PlayerConnection } from './types.js';
import { encodeMessage, type UserChannel } from './user-channel.js';

/** What each player said it decodes (`state.accept`); kept beside the connection, gone with it. */
const accepted = new WeakMap<PlayerConnection, readonly string[]>();

export function setPlayerAccept(player: PlayerConnection, accept: readonly string[]): void {
  accepted.set(player, accept);
}

interface FormatGroup {
  readonly format: AudioFormat;
  readonly players: PlayerConnection[];
  /** null: the players take the source bytes as they are. */
  transcoder: Transcoder | null;
  bytes: number;
}

/**
 * One speech's audio to a user's players, grouped by the format each takes: the source bytes go to the players
 * that decode them, and each other format is transcoded once for all players that need it (never per player).
 * Players are grouped when the speech starts; one that connects or changes `accept` later joins the next speech.
 */
export class AudioFanout {
  private readonly groups: FormatGroup[] = [];
  private firstAudioSent = false;
  /** The players grouped, with the `accept` each had then (see fits). */
  private readonly grouped = new Map<PlayerConnection, readonly string[] | undefined>();
  /** `speech.start` as each group gets it, serialised ahead for that message (see prepareStart). */
  private prepared: { readonly message: object; readonly texts: readonly Uint8Array[] } | undefined;
  /** `speech.start`, until it goes out with the speech's first message or audio (see start). */
  private pendingStart: Omit<SpeechStartMessage, 'audio'> | undefined;

  constructor(
    private readonly channel: UserChannel,
    private readonly speechId: string,
    private readonly source: AudioFormat,
    private readonly maxBufferedBytes: number,
    private readonly log: Logger,
  ) {
    const byType = new Map<string, PlayerConnection[]>();
    for (const player of channel.players) {
      this.grouped.set(player, accepted.get(player));
      const mimeType = chooseMimeType(source, accepted.get(player));
      const players = byType.get(mimeType) ?? [];
      players.push(player);
      byType.set(mimeType, players);
    }
    for (const [mimeType, players] of byType) {
      const transcoder = mimeType === source.mimeType ? null : createTranscoder(source, mimeType);
      this.groups.push({ format: transcoder?.format ?? source, players, transcoder, bytes: 0 });
    }
  }

  /** Players of this speech that had said someone can hear them (`state.audio: "on"`) when it started. */
  get playersListening(): number {
    let players = 0;
    for (const group of this.groups)
      for (const player of group.players) if (this.channel.isListening(player)) players += 1;
    return players;
  }

  get playersReached(): number {
    let players = 0;
    for (const group of this.groups) players += group.players.length;
    return players;
  }

  /**
   * Whether this grouping, made before the stream's answer, still holds for it: the same source format, and
   * the same players with the same `accept` (one that came, left or changed it since gets a new grouping).
   */
  fits(source: AudioFormat): boolean {
    const same =
      source.mimeType === this.source.mimeType &&
      source.sampleRate === this.source.sampleRate &&
      source.channels === this.source.channels;
    if (!same || this.grouped.size !== this.channel.players.size) return false;
    for (const player of this.channel.players)
      if (!this.grouped.has(player) || this.grouped.get(player) !== accepted.get(player)) return false;
    return true;
  }

  /** Serialises `speech.start` for each group now, so start(), given the same message, only sends it. */
  prepareStart(message: Omit<SpeechStartMessage, 'audio'>): void {
    this.prepared = { message, texts: this.encodeStart(message) };
  }

  /**
   * `speech.start`, announcing to each group the format it gets (as prepared, when it was). It goes out just
   * before whatever the speech sends next (its first timings or audio, or its end or error), in the same write:
   * ElevenLabs sends its first audio right behind its answer's headers, and a write of its own would be a
   * system call per player on the way to that audio.
   */
  start(message: Omit<SpeechStartMessage, 'audio'>): void {
    this.pendingStart = message;
  }

  /** A message that is the same whatever the format (timings, stopped, error). */
  broadcast(message: ServerMessage): void {
    this.sendStart();
    for (const group of this.groups) this.channel.broadcastTo(group.players, message);
  }

  audio(chunk: Uint8Array): void {
    this.sendStart();
    for (const group of this.groups)
      this.send(group, group.transcoder ? this.transcode(group, chunk) : [chunk]);
    if (this.firstAudioSent) return;
    // The first audio is what a listener waits for: out now, not after the rest of this turn's work (meter,
    // tape, store, progress notification). Later chunks leave at the end of their turn, with whatever follows.
    this.firstAudioSent = true;
    for (const group of this.groups) for (const player of group.players) player.flush();
  }

  /** Flushes each transcoder and sends `speech.end` with the bytes that group received. */
  end(id: string, durationMs: number): void {
    this.sendStart();
    for (const group of this.groups) {
      const transcoder = group.transcoder;
      if (transcoder)
        this.send(
          group,
          this.guard(group, () => transcoder.end()),
        );
      this.channel.broadcastTo(group.players, { type: 'speech.end', id, durationMs, bytes: group.bytes });
    }
  }

  /** Frees the codecs of a speech that did not end normally. */
  close(): void {
    for (const group of this.groups) group.transcoder?.close();
  }

  private sendStart(): void {
    const message = this.pendingStart;
    if (message === undefined) return;
    this.pendingStart = undefined;
    const texts = this.prepared?.message === message ? this.prepared.texts : this.encodeStart(message);
    this.groups.forEach((group, index) => this.channel.sendEncodedTo(group.players, texts[index]!));
  }

  private encodeStart(message: Omit<SpeechStartMessage, 'audio'>): Uint8Array[] {
    return this.groups.map((group) => encodeMessage({ ...message, audio: group.format }));
  }

  private send(group: FormatGroup, chunks: readonly Uint8Array[]): void {
    for (const chunk of chunks) {
      if (chunk.byteLength === 0) continue;
      group.bytes += chunk.byteLength;
      this.channel.sendAudioTo(group.players, chunk, this.maxBufferedBytes);
    }
  }

  private transcode(group: FormatGroup, chunk: Uint8Array): readonly Uint8Array[] {
    const transcoder = group.transcoder!;
    return this.guard(group, () => transcoder.push(chunk));
  }

  /** Audio the codec cannot read (a damaged upstream stream) ends that group's stream, not the speech. */
  private guard(group: FormatGroup, work: () => Uint8Array[]): readonly Uint8Array[] {
    try {
      return work();
    } catch (error) {
      this.log.warn({ err: error, format: group.format.mimeType }, 'audio transcoding failed');
      group.transcoder?.close();
      group.transcoder = null;
      const players = group.players.splice(0);
      this.channel.broadcastTo(players, {
        type: 'speech.error',
        id: this.speechId,
        code: 'audio_format',
        message: `Earshot could not convert this speech to ${group.format.mimeType}; it plays in players that take Ogg Opus.`,
      });
      return [];
    }
  }
}
