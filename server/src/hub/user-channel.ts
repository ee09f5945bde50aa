import { CLOSE_CODES, type ServerMessage } from '@earshot/protocol';
import type { PlayerConnection } from './types.js';

const RECENTLY_PLAYED_MAX = 64;

/** A message as the UTF-8 JSON text a player receives. */
export function encodeMessage(message: ServerMessage): Uint8Array {
  return Buffer.from(JSON.stringify(message), 'utf8');
}

/** One user's players, and which of that user's speeches they have finished playing. */
export class UserChannel {
  readonly players = new Set<PlayerConnection>();
  private readonly playedWaiters = new Map<string, Set<(played: boolean) => void>>();
  private readonly recentlyPlayed: string[] = [];
  /**
   * Players that said `state.audio: "on"` (someone can hear them). A player that never said is not in it:
   * Earshot cannot know anyone hears it, and a result must never claim so (older scripts that report `played`
   * without `state` get `played` only if they send it before the wait gives up).
   */
  private readonly audio = new WeakMap<PlayerConnection, 'on' | 'off'>();

  /**
   * Sends a message to every player of this user; returns how many received it. It is serialised once,
   * whatever the number of players: each gets the same bytes (JSON per player was a fifth of the CPU of a
   * crowd of players).
   */
  broadcast(message: ServerMessage): number {
    this.broadcastTo(this.players, message);
    return this.players.size;
  }

  /**
   * Sends a message to some of this user's players (those taking one audio format); gone ones are skipped.
   * Serialised once, however many players get it.
   */
  broadcastTo(players: Iterable<PlayerConnection>, message: ServerMessage): void {
    let text: Uint8Array | undefined;
    for (const player of players) {
      if (!this.players.has(player)) continue;
      text ??= encodeMessage(message);
      player.sendText(text);
    }
  }

  /** As broadcastTo, with the message already serialised (encodeMessage). */
  sendEncodedTo(players: Iterable<PlayerConnection>, text: Uint8Array): void {
    for (const player of players) if (this.players.has(player)) player.sendText(text);
  }

  /**
   * Forwards audio to some of this user's players (those taking its format). A player whose unsent bytes pass
   * the limit is disconnected (it reconnects and resumes with the next speech) so one slow tab cannot hold
   * memory or the others back.
   */
  sendAudioTo(players: Iterable<PlayerConnection>, chunk: Uint8Array, maxBufferedBytes: number): void {
    for (const player of players) {
      if (!this.players.has(player)) continue;
      if (player.bufferedBytes > maxBufferedBytes) {
        this.remove(player);
        player.close(CLOSE_CODES.tooSlow, 'player fell too far behind');
        continue;
      }
      player.sendAudio(chunk);
    }
  }

  /** Removes a player (gone or dropped); a wait for `played` ends once no listening player remains. */
  remove(player: PlayerConnection): void {
    this.players.delete(player);
    this.settleIfNobodyListens();
  }

  /** Records what a player said about its audio (`state.audio`). */
  setAudio(player: PlayerConnection, on: boolean): void {
    this.audio.set(player, on ? 'on' : 'off');
    this.settleIfNobodyListens();
  }

  isListening(player: PlayerConnection): boolean {
    return this.audio.get(player) === 'on' && this.players.has(player);
  }

  /** Connected players that said someone can hear them. */
  get playersListening(): number {
    let listening = 0;
    for (const player of this.players) if (this.audio.get(player) === 'on') listening += 1;
    return listening;
  }

  /** What each connected player said of its audio ('unknown': it never said), for logs and tests. */
  audioStates(): ('on' | 'off' | 'unknown')[] {
    return [...this.players].map((player) => this.audio.get(player) ?? 'unknown');
  }

  markPlayed(id: string): void {
    if (!this.recentlyPlayed.includes(id)) {
      this.recentlyPlayed.push(id);
      if (this.recentlyPlayed.length > RECENTLY_PLAYED_MAX) this.recentlyPlayed.shift();
    }
    const waiters = this.playedWaiters.get(id);
    this.playedWaiters.delete(id);
    for (const resolve of waiters ?? []) resolve(true);
  }

  /**
   * Resolves true when a player reports `played` for the speech; false on timeout or as soon as no listening
   * player remains (one that cannot play would never report it).
   */
  waitPlayed(id: string, timeoutMs: number): Promise<boolean> {
    if (this.recentlyPlayed.includes(id)) return Promise.resolve(true);
    if (this.playersListening === 0) return Promise.resolve(false);
    return new Promise((resolve) => {
      const waiters = this.playedWaiters.get(id) ?? new Set();
      this.playedWaiters.set(id, waiters);
      const timer = setTimeout(() => {
        waiters.delete(resolve);
        if (waiters.size === 0) this.playedWaiters.delete(id);
        resolve(false);
      }, timeoutMs);
      timer.unref();
      waiters.add((played) => {
        clearTimeout(timer);
        resolve(played);
      });
    });
  }

  private settleIfNobodyListens(): void {
    if (this.playedWaiters.size === 0 || this.playersListening > 0) return;
    const waiting = [...this.playedWaiters.values()];
    this.playedWaiters.clear();
    for (const waiters of waiting) for (const resolve of waiters) resolve(false);
  }
}
