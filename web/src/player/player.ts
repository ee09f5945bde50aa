import {
  OGG_OPUS,
  PCM,
  type ServerMessage,
  type SpeechSource,
  type UserSettings,
  type VoiceRef,
} from '@earshot/protocol';
import { AudioOut, alignPcm } from './audio-out.js';
import { CaptionTiming } from './captions.js';
import { PlayerConnection, type ConnectionState, type PlayerCredential } from './connection.js';
import { OpusStream, canDecodeOpus } from './opus-stream.js';

export type SpeechState = 'streaming' | 'playing' | 'played' | 'stopped' | 'skipped' | 'failed' | 'unheard';

/** One speech as the console shows it: in the queue while it plays, in "recent" afterwards. */
export interface Speech {
  readonly id: string;
  readonly text: string;
  readonly voice: VoiceRef;
  readonly source: SpeechSource;
  readonly receivedAt: Date;
  readonly captions: CaptionTiming;
  state: SpeechState;
  note: string;
  durationMs: number | null;
  /** Context time its first chunk starts playing at, and the end of its last scheduled chunk. */
  audioStart: number | null;
  audioEnd: number | null;
  /** Whether any of its audio was scheduled (false with audio off, auto-play off, or skipped). */
  scheduled: boolean;
  ended: boolean;
  carry: number | null;
  sampleRate: number;
  /** Whether its audio is raw 16-bit PCM (scheduled as it comes) … */
  pcm: boolean;
  /** … or Ogg Opus, decoded as it comes (null: another format, or nothing here decodes Opus). */
  opus: OpusStream | null;
  lastSource: AudioBufferSourceNode | null;
}

interface Timeline {
  /** The audio type the server sent this speech in. */
  mimeType: string;
  startAt: number;
  firstAudioAt: number | null;
  peakBeforeEnd: number;
  endAt: number | null;
}
/** Counters the browser tests read; also handy in the devtools console (`earshotPlayer.stats`). */
export interface PlayerStats {
  chunks: number;
  bytes: number;
  peak: number;
  played: string[];
  started: string[];
  errors: ServerMessage[];
  timeline: Record<string, Timeline>;
}

export interface PlayerListener {
  onConnection(state: ConnectionState): void;
  onSpeechesChanged(): void;
  onSpeechStarted(speech: Speech): void;
  onSettings(settings: UserSettings): void;
}

const RECENT_MAX = 20;

/** The player: the channel, the audio output, and what each speech is doing. No DOM here. */
export class Player {
  readonly stats: PlayerStats = {
    chunks: 0,
    bytes: 0,
    peak: 0,
    played: [],
    started: [],
    errors: [],
    timeline: {},
  };
  readonly speeches: Speech[] = [];
  audio: AudioOut | null = null;
  autoPlay = true;
  paused = false;
  private streaming: Speech | null = null;
  /** The `audio` state last told to the server (null: not yet on this connection). */
  private sentAudio: 'on' | 'off' | null = null;
  private readonly connection: PlayerConnection;
  private readonly listeners = new Set<PlayerListener>();
  /** What this tab decodes, best first: Opus where WebCodecs has it, PCM everywhere. */
  private readonly accept: Promise<string[]> = canDecodeOpus().then((opus) =>
    opus ? [OGG_OPUS, PCM] : [PCM],
  );
  /** Optimistic until the check answers, so a speech that starts meanwhile is not left unplayed. */
  private opusDecodes = typeof AudioDecoder !== 'undefined';

  constructor(socketUrl: string, credential: PlayerCredential) {
    void this.accept.then((accept) => (this.opusDecodes = accept.includes(OGG_OPUS)));
    this.connection = new PlayerConnection(socketUrl, credential, {
      onState: (state) => {
        // Say what this tab decodes on every (re)connect; the server picks each speech's format from it.
        // And whether anyone hears it, so the server never tells an agent a speech was heard when it was not.
        if (state.kind === 'open')
          void this.accept.then((accept) => {
            this.sentAudio = this.audible;
            this.connection.send({ type: 'state', accept, audio: this.sentAudio });
          });
        // A stream cut by a lost connection never gets its speech.end: settle it so the queue does not hang.
        if (state.kind === 'closed' && this.streaming) {
          const speech = this.streaming;
          this.streaming = null;
          speech.ended = true;
          speech.opus?.close();
          // What was scheduled still plays out, but the speech was cut: never report it as played.
          this.settle(speech, 'stopped', 'connection lost');
          this.changed();
        }
        this.listeners.forEach((l) => l.onConnection(state));
      },
      onMessage: (message) => this.handleMessage(message),
      onAudio: (chunk) => this.handleAudio(chunk),
    });
  }

  listen(listener: PlayerListener): void {
    this.listeners.add(listener);
  }

  connect(): void {
    this.connection.connect();
  }

  disconnect(): void {
    this.connection.close();
  }

  /** Must run in a click handler: browsers only start audio after a user gesture. */
  async enableAudio(): Promise<void> {
    if (!this.audio) {
      this.audio = new AudioOut();
      // Timers keep measuring in background tabs, where animation frames stop.
      setInterval(() => this.measure(), 50);
      // The browser suspends and resumes the context on its own too (autoplay rules, devices, pause).
      this.audio.context.addEventListener('statechange', () => this.reportAudio());
    }
    await this.audio.context.resume();
    this.paused = false;
    this.reportAudio();
  }

  /**
   * "on" when speech reaching this tab is heard: audio enabled, the context running (not blocked by the
   * autoplay rule, not paused) and auto-play on.
   */
  get audible(): 'on' | 'off' {
    return this.audio?.context.state === 'running' && this.autoPlay && !this.paused ? 'on' : 'off';
  }

  /** Tells the server when `audible` changes (the connection drops the message while closed). */
  private reportAudio(): void {
    const audio = this.audible;
    if (audio === this.sentAudio) return;
    this.sentAudio = audio;
    this.connection.send({ type: 'state', audio });
  }

  /** The speech being heard right now (or streaming, if nothing is audible yet). */
  get current(): Speech | null {
    const now = this.audio?.context.currentTime ?? 0;
    const audible = this.speeches.find(
      (s) => s.state === 'playing' && s.audioStart !== null && s.audioStart <= now + 0.1,
    );
    return audible ?? this.speeches.find((s) => s.state === 'streaming' || s.state === 'playing') ?? null;
  }

  /** Position in ms inside a speech's audio, and how much of its audio is known so far. */
  position(speech: Speech): { positionMs: number; knownMs: number } {
    if (!this.audio || speech.audioStart === null) return { positionMs: 0, knownMs: 0 };
    const now = this.audio.context.currentTime;
    return {
      positionMs: Math.max(0, (now - speech.audioStart) * 1000),
      knownMs:
        speech.ended && speech.durationMs !== null
          ? speech.durationMs
          : ((speech.audioEnd ?? now) - speech.audioStart) * 1000,
    };
  }

  /** Esc: stop what plays and everything queued, here and on the server. */
  stop(): void {
    this.audio?.stop();
    for (const speech of this.speeches)
      if (speech.state === 'playing' && speech.ended) this.settle(speech, 'stopped', 'stopped');
    this.connection.send({ type: 'stop' });
    this.changed();
  }

  /** Skips the current speech in this tab only; the next one plays when it arrives. */
  skip(): void {
    const speech = this.current;
    if (!speech) return;
    this.audio?.stop(speech.id);
    this.settle(speech, 'skipped', 'skipped');
    this.changed();
  }

  /** Space: pause and resume the output (the stream keeps arriving and waits). */
  async togglePause(): Promise<void> {
    if (!this.audio) return;
    if (this.paused) await this.audio.context.resume();
    else await this.audio.context.suspend();
    this.paused = !this.paused;
    this.reportAudio();
    this.changed();
  }

  private handleMessage(message: ServerMessage): void {
    switch (message.type) {
      case 'speech.start': {
        const speech: Speech = {
          id: message.id,
          text: message.text,
          voice: message.voice,
          source: message.source,
          receivedAt: new Date(),
          captions: new CaptionTiming(message.text),
          state: 'streaming',
          note: '',
          durationMs: null,
          audioStart: null,
          audioEnd: null,
          scheduled: false,
          ended: false,
          carry: null,
          sampleRate: message.audio.sampleRate ?? 24_000,
          pcm: message.audio.mimeType === PCM,
          opus: null,
          lastSource: null,
        };
        if (message.audio.mimeType === OGG_OPUS && this.opusDecodes) {
          speech.opus = new OpusStream(
            (samples, rate) => this.playSamples(speech, samples, rate),
            (error) => this.settle(speech, 'failed', `could not decode the audio: ${error.message}`),
          );
        }
        this.streaming = speech;
        this.speeches.unshift(speech);
        this.speeches.splice(RECENT_MAX);
        this.stats.started.push(message.id);
        this.stats.timeline[message.id] = {
          mimeType: message.audio.mimeType,
          startAt: performance.now(),
          firstAudioAt: null,
          peakBeforeEnd: 0,
          endAt: null,
        };
        this.listeners.forEach((l) => l.onSpeechStarted(speech));
        break;
      }
      case 'speech.alignment':
        this.find(message.id)?.captions.addAlignment(message.chars, message.startMs);
        break;
      case 'speech.end': {
        const timeline = this.stats.timeline[message.id];
        if (timeline) timeline.endAt = performance.now();
        const speech = this.find(message.id);
        if (!speech) break;
        speech.durationMs = message.durationMs;
        const opus = speech.opus;
        if (!opus) {
          this.finishStream(speech);
          break;
        }
        // Opus decodes behind the network: settle once the last packets have been decoded and scheduled.
        if (this.streaming === speech) this.streaming = null;
        void opus.flush().then(() => {
          opus.close();
          this.finishStream(speech);
          this.changed();
        });
        break;
      }
      case 'speech.stopped': {
        this.audio?.stop(message.id);
        const speech = this.find(message.id);
        speech?.opus?.close();
        if (speech) {
          this.finishStream(speech);
          this.settle(speech, 'stopped', 'stopped');
        }
        break;
      }
      case 'speech.error': {
        this.stats.errors.push(message);
        const speech = this.find(message.id);
        speech?.opus?.close();
        if (speech) {
          this.finishStream(speech);
          this.settle(speech, 'failed', `could not speak: ${message.message}`);
        }
        break;
      }
      case 'settings.changed':
        this.autoPlay = message.settings.autoPlay;
        this.reportAudio();
        this.listeners.forEach((l) => l.onSettings(message.settings));
        break;
      case 'hello':
      case 'pong':
        break;
    }
    this.changed();
  }

  private handleAudio(chunk: ArrayBuffer): void {
    this.stats.chunks += 1;
    this.stats.bytes += chunk.byteLength;
    const speech = this.streaming;
    if (!speech || !this.audio || !this.autoPlay || speech.state !== 'streaming') return;
    if (speech.opus) return speech.opus.push(new Uint8Array(chunk));
    // Raw PCM is scheduled chunk by chunk; other formats are left to history replay.
    if (!speech.pcm) return;
    const { bytes, carry } = alignPcm(new Uint8Array(chunk), speech.carry);
    speech.carry = carry;
    if (bytes.length === 0) return;
    const scheduled = this.audio.schedule(speech.id, bytes, speech.sampleRate, (ended) => {
      if (speech.ended && speech.lastSource === ended) this.reportPlayed(speech);
    });
    this.scheduled(speech, scheduled);
  }

  /** Samples decoded from a speech's Opus: scheduled like PCM, unless the speech was stopped meanwhile. */
  private playSamples(speech: Speech, samples: Float32Array, sampleRate: number): void {
    if (!this.audio || speech.state !== 'streaming') return;
    const scheduled = this.audio.scheduleSamples(speech.id, samples, sampleRate, (ended) => {
      if (speech.ended && speech.lastSource === ended) this.reportPlayed(speech);
    });
    this.scheduled(speech, scheduled);
  }

  private scheduled(
    speech: Speech,
    { source, startAt }: { source: AudioBufferSourceNode; startAt: number },
  ): void {
    if (!this.audio) return;
    speech.audioStart ??= startAt;
    speech.audioEnd = this.audio.playhead;
    speech.lastSource = source;
    speech.scheduled = true;
    const timeline = this.stats.timeline[speech.id];
    if (timeline && timeline.firstAudioAt === null) timeline.firstAudioAt = performance.now();
  }

  private finishStream(speech: Speech): void {
    if (this.streaming === speech) this.streaming = null;
    if (speech.ended) return;
    speech.ended = true;
    if (speech.state !== 'streaming') return;
    // With audio off the user heard nothing: never claim "played" (speak with wait: "played" then times out).
    if (!this.audio || !speech.scheduled) {
      const why = !this.audio
        ? 'not heard: audio is off'
        : !this.autoPlay
          ? 'not played: auto-play is off'
          : speech.pcm || speech.opus
            ? 'no audio'
            : 'not played: this format plays from History';
      this.settle(speech, 'unheard', why);
      return;
    }
    speech.state = 'playing';
    // Everything already played out: report now; otherwise the last chunk's end reports it.
    if (this.audio.idle) this.reportPlayed(speech);
  }

  private reportPlayed(speech: Speech): void {
    if (speech.state !== 'playing') return;
    this.settle(
      speech,
      'played',
      speech.durationMs === null ? 'played' : `played · ${(speech.durationMs / 1000).toFixed(1)} s`,
    );
    this.stats.played.push(speech.id);
    this.connection.send({ type: 'played', id: speech.id });
    this.changed();
  }

  private settle(speech: Speech, state: SpeechState, note: string): void {
    speech.state = state;
    speech.note = note;
  }

  private measure(): void {
    if (!this.audio) return;
    const peak = this.audio.level();
    this.stats.peak = Math.max(this.stats.peak, peak);
    // Which speech is audible while its generation is still running (no speech.end yet).
    const live = this.streaming && this.stats.timeline[this.streaming.id];
    if (live && live.endAt === null) live.peakBeforeEnd = Math.max(live.peakBeforeEnd, peak);
    this.lastLevel = peak;
  }

  lastLevel = 0;

  private find(id: string): Speech | undefined {
    return this.speeches.find((speech) => speech.id === id);
  }

  private changed(): void {
    this.listeners.forEach((l) => l.onSpeechesChanged());
  }
}
