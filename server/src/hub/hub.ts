import type { ClientMessage, ServerMessage } from '@earshot/protocol';
import type { Logger } from 'pino';
import type { VoiceEngine } from '../engines/index.js';
import { EarshotError } from '../errors.js';
import type { Store } from '../storage/index.js';
import { setPlayerAccept } from './audio-fanout.js';
import { InChatSpeeches } from './in-chat.js';
import type { SpeechTape } from './speech-tape.js';
import { STORE_RETRY_DELAYS_MS } from './retry.js';
import { runSpeech } from './speech-run.js';
import type { PlayerConnection, SpeechHandle, SpeechJob, SpeechOutcome } from './types.js';
import { UserChannel } from './user-channel.js';
import { randomId } from '../random-id.js';

export interface HubOptions {
  readonly engine: VoiceEngine;
  readonly store: Store;
  readonly logger: Logger;
  /** A player with more unsent audio than this is disconnected. @default 4 MiB */
  readonly maxPlayerBufferBytes?: number;
  /** Speeches one user may have waiting. @default 20 */
  readonly maxQueuePerUser?: number;
  /** Waits between retries of a failed history write. @default STORE_RETRY_DELAYS_MS (200 ms … 15 s) */
  readonly storeRetryDelaysMs?: readonly number[];
  /** @default a new InChatSpeeches (tokens last SPEECH_TOKEN_TTL_MS) */
  readonly inChat?: InChatSpeeches;
}

interface QueuedSpeech {
  readonly id: string;
  readonly job: SpeechJob;
  readonly controller: AbortController;
  readonly tape: SpeechTape | undefined;
  readonly resolve: (outcome: SpeechOutcome) => void;
}

/**
 * Routes speech to players. Each user has a queue: one speech streams at a time per user, in order, and
 * only to that user's players. Users do not wait for each other. Per-user state lives as long as the
 * process: users are the bounded set of configured keys.
 */
export class Hub {
  private readonly channels = new Map<string, UserChannel>();
  private readonly queues = new Map<string, QueuedSpeech[]>();
  private readonly current = new Map<string, QueuedSpeech>();
  private readonly idleWaiters = new Set<() => void>();
  private draining = false;
  /** Since start: speeches run, and those that failed (for metrics). */
  readonly counters = { speeches: 0, failures: 0 };
  /** Speeches kept for in-chat (MCP Apps) players, and the tokens that open them. */
  readonly inChat: InChatSpeeches;
  private readonly maxPlayerBufferBytes: number;
  private readonly maxQueuePerUser: number;
  private readonly storeRetryDelaysMs: readonly number[];

  constructor(private readonly options: HubOptions) {
    this.maxPlayerBufferBytes = options.maxPlayerBufferBytes ?? 4 * 1024 * 1024;
    this.maxQueuePerUser = options.maxQueuePerUser ?? 20;
    this.storeRetryDelaysMs = options.storeRetryDelaysMs ?? STORE_RETRY_DELAYS_MS;
    this.inChat = options.inChat ?? new InChatSpeeches();
  }

  get engineName(): string {
    return this.options.engine.name;
  }

  /** Registers a player and greets it; returns the function that unregisters it. */
  connectPlayer(user: string, player: PlayerConnection): () => void {
    const channel = this.channel(user);
    channel.players.add(player);
    player.sendJson({ type: 'hello', user, engine: this.options.engine.name });
    return () => channel.remove(player);
  }

  handlePlayerMessage(user: string, player: PlayerConnection, message: ClientMessage): void {
    switch (message.type) {
      case 'stop':
        this.stop(user);
        break;
      case 'played':
        this.channel(user).markPlayed(message.id);
        break;
      case 'ping':
        player.sendJson({ type: 'pong' });
        break;
      case 'state':
        // Takes effect from the next speech: a stream does not change format half-way.
        if (message.accept) setPlayerAccept(player, message.accept);
        // Takes effect at once: a wait for `played` ends when the last listening player turns audio off.
        if (message.audio) this.channel(user).setAudio(player, message.audio === 'on');
        break;
    }
  }

  playerCount(user: string): number {
    return this.channels.get(user)?.players.size ?? 0;
  }

  /** Connected players of the user that said someone can hear them (`state.audio: "on"`), in-chat ones too. */
  listeningCount(user: string): number {
    return (this.channels.get(user)?.playersListening ?? 0) + this.inChat.listening(user);
  }

  /** A player of one speech (in-chat) finished playing it. */
  markPlayed(user: string, id: string): void {
    this.channel(user).markPlayed(id);
  }

  /** What each of the user's players said of its audio ('unknown': never said). */
  playerAudio(user: string): ('on' | 'off' | 'unknown')[] {
    return this.channels.get(user)?.audioStates() ?? [];
  }

  totalPlayers(): number {
    let total = 0;
    for (const channel of this.channels.values()) total += channel.players.size;
    return total;
  }

  broadcast(user: string, message: ServerMessage): number {
    return this.channels.get(user)?.broadcast(message) ?? 0;
  }

  /** Queues a speech for its user. Throws when the server is shutting down or the queue is full. */
  speak(job: SpeechJob): SpeechHandle {
    if (this.draining) {
      throw new EarshotError('shutting_down', 'Earshot is shutting down; try again in a moment.');
    }
    const queue = this.queue(job.user);
    if (queue.length >= this.maxQueuePerUser) {
      throw new EarshotError(
        'queue_full',
        `${queue.length} speeches are already waiting; call stop_speaking or wait for them to finish.`,
      );
    }
    const id = randomId('sp_', 9);
    const controller = new AbortController();
    let resolve!: (outcome: SpeechOutcome) => void;
    const done = new Promise<SpeechOutcome>((r) => (resolve = r));
    const queuedBehind = queue.length + (this.current.has(job.user) ? 1 : 0);
    const tape = job.inChat ? this.inChat.record(job.user, id) : undefined;
    queue.push({ id, job, controller, tape, resolve });
    this.pump(job.user);
    const channel = this.channel(job.user);
    return {
      id,
      queuedBehind,
      done,
      waitPlayed: (timeoutMs) => channel.waitPlayed(id, timeoutMs),
      cancel: () => this.cancel(job.user, id),
    };
  }

  /** Stops one speech of the user (running or queued); the others go on. */
  stopSpeech(user: string, id: string): void {
    this.cancel(user, id);
  }

  /** Stops the user's current speech and empties the queue; returns how many speeches were stopped. */
  stop(user: string): number {
    const waiting = this.queues.get(user)?.splice(0) ?? [];
    for (const speech of waiting) {
      speech.controller.abort();
      this.endUnstarted(speech, 'stopped');
    }
    const running = this.current.get(user);
    running?.controller.abort();
    return waiting.length + (running ? 1 : 0);
  }

  /** Stops accepting speech and waits (at most `timeoutMs`) for queued and running speech to finish. */
  async drain(timeoutMs: number): Promise<boolean> {
    this.draining = true;
    if (this.isIdle()) return true;
    const idle = new Promise<boolean>((resolve) => this.idleWaiters.add(() => resolve(true)));
    const timeout = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), timeoutMs).unref());
    const finished = await Promise.race([idle, timeout]);
    if (!finished) for (const user of [...this.queues.keys(), ...this.current.keys()]) this.stop(user);
    return finished;
  }

  /** Closes every player (1001 on shutdown). */
  closePlayers(code: number, reason: string): void {
    for (const channel of this.channels.values()) {
      for (const player of channel.players) player.close(code, reason);
      channel.players.clear();
    }
  }

  private cancel(user: string, id: string): void {
    const running = this.current.get(user);
    if (running?.id === id) return running.controller.abort();
    const queue = this.queues.get(user) ?? [];
    const index = queue.findIndex((speech) => speech.id === id);
    if (index >= 0) {
      const [speech] = queue.splice(index, 1);
      speech!.controller.abort();
      this.endUnstarted(speech!, 'stopped');
    }
  }

  /** Starts the user's next speech if none is running. */
  private pump(user: string): void {
    if (this.current.has(user)) return;
    const next = this.queues.get(user)?.shift();
    if (!next) {
      if (this.isIdle()) for (const wake of this.idleWaiters) wake();
      return;
    }
    this.current.set(user, next);
    const deps = {
      ...this.options,
      maxPlayerBufferBytes: this.maxPlayerBufferBytes,
      storeRetryDelaysMs: this.storeRetryDelaysMs,
    };
    this.counters.speeches += 1;
    // A silent job streams into a channel with no players.
    const channel = next.job.silent ? new UserChannel() : this.channel(user);
    void runSpeech(next.id, next.job, channel, next.controller.signal, deps, next.tape)
      .then(
        (outcome) => {
          if (outcome.status === 'failed') this.counters.failures += 1;
          // In-chat players that joined while it streamed heard it too.
          const inChat = this.inChat.audience(next.id);
          next.resolve({
            ...outcome,
            playersReached: outcome.playersReached + inChat.reached,
            playersListening: outcome.playersListening + inChat.listening,
          });
        },
        (error: unknown) => {
          this.counters.failures += 1;
          this.options.logger.error({ err: error }, 'speech run crashed');
          const message = 'The speech failed inside Earshot; the server log has details.';
          next.tape?.message({ type: 'speech.error', id: next.id, code: 'internal', message });
          // Whether it spent is unknown: its reservation is left to expire, so the budget stays safe.
          next.resolve(notStarted(next, 'failed'));
        },
      )
      .finally(() => {
        this.current.delete(user);
        this.pump(user);
      });
  }

  /** A speech that never reached the engine: nothing was spent, so its reservation goes back. */
  private endUnstarted(speech: QueuedSpeech, status: 'stopped' | 'failed'): void {
    const outcome = notStarted(speech, status);
    speech.tape?.message({ type: 'speech.stopped', id: speech.id });
    void speech.job.recordUsage?.(outcome);
    speech.resolve(outcome);
  }

  private isIdle(): boolean {
    return this.current.size === 0 && [...this.queues.values()].every((queue) => queue.length === 0);
  }

  private channel(user: string): UserChannel {
    let channel = this.channels.get(user);
    if (!channel) {
      channel = new UserChannel();
      this.channels.set(user, channel);
    }
    return channel;
  }

  private queue(user: string): QueuedSpeech[] {
    let queue = this.queues.get(user);
    if (!queue) {
      queue = [];
      this.queues.set(user, queue);
    }
    return queue;
  }
}

function notStarted(speech: QueuedSpeech, status: 'stopped' | 'failed'): SpeechOutcome {
  return {
    id: speech.id,
    status,
    error:
      status === 'stopped'
        ? new EarshotError('cancelled', 'The speech was stopped before it started.')
        : new EarshotError('internal', 'The speech failed inside Earshot; the server log has details.'),
    characters: speech.job.text.length,
    credits: 0,
    bytes: 0,
    durationMs: 0,
    format: null,
    playersReached: 0,
    playersListening: 0,
    spent: false,
    audioStored: false,
  };
}
