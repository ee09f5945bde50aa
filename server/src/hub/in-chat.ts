import { createHash, randomBytes } from 'node:crypto';
import { routeTagOf } from '../auth/route-tag.js';
import { SpeechTape } from './speech-tape.js';

/** How long a speech token (and the tape it opens) lasts after the tool result that carried it. */
export const SPEECH_TOKEN_TTL_MS = 10 * 60_000;
/** Tapes kept at once (each at most TAPE_MAX_BYTES: 64 MiB at worst); past this the oldest goes first. */
export const MAX_TAPES = 32;
/** Players one token may open at once (a host may render the same result twice). */
export const MAX_PLAYERS_PER_TOKEN = 4;

interface TapeEntry {
  readonly user: string;
  readonly tape: SpeechTape;
  expiresAt: number;
  /** sha256 of the token, once one was issued: the token itself is never kept. */
  tokenHash: string | null;
  players: number;
  /** In-chat players of this speech that said someone hears them (`state.audio: "on"`). */
  readonly listening: Set<object>;
}

export interface SpeechGrant {
  readonly user: string;
  readonly speechId: string;
  readonly tape: SpeechTape;
  /** Call when the player leaves: frees its seat and its listening count. */
  release(): void;
  setListening(on: boolean): void;
}

const hash = (token: string) => createHash('sha256').update(token).digest('hex');

/**
 * Speeches an in-chat (MCP Apps) player may hear. A tool that plays records its speech on a tape; its result
 * carries a random token bound to that one speech, valid for SPEECH_TOKEN_TTL_MS; the player socket exchanges
 * the token for that tape and for nothing else (no other speech, no REST, no MCP: those take keys only).
 */
export class InChatSpeeches {
  private readonly entries = new Map<string, TapeEntry>();
  private readonly byToken = new Map<string, string>();

  constructor(
    private readonly now: () => number = Date.now,
    private readonly ttlMs = SPEECH_TOKEN_TTL_MS,
  ) {}

  /** Starts keeping a speech for in-chat players; returns its tape (the speech run writes to it). */
  record(user: string, speechId: string): SpeechTape {
    this.sweep();
    while (this.entries.size >= MAX_TAPES) this.drop(this.entries.keys().next().value!);
    const tape = new SpeechTape(speechId);
    this.entries.set(speechId, {
      user,
      tape,
      expiresAt: this.now() + this.ttlMs,
      tokenHash: null,
      players: 0,
      listening: new Set(),
    });
    return tape;
  }

  /**
   * A token for one recorded speech of `user`, or null when it is not (or no longer) kept. Each call makes a
   * new token and the old one stops working: one speech, one live token.
   */
  issue(user: string, speechId: string): { token: string; expiresAt: Date } | null {
    this.sweep();
    const entry = this.entries.get(speechId);
    if (!entry || entry.user !== user) return null;
    // The user's route tag in front (route-tag.ts): behind the AWS proxy it reaches the task holding the tape.
    const token = `est_${routeTagOf(user)}.${randomBytes(32).toString('base64url')}`;
    if (entry.tokenHash) this.byToken.delete(entry.tokenHash);
    entry.tokenHash = hash(token);
    entry.expiresAt = this.now() + this.ttlMs;
    this.byToken.set(entry.tokenHash, speechId);
    return { token, expiresAt: new Date(entry.expiresAt) };
  }

  /** What a token opens: its speech's tape, for one more player; null when unknown, expired or full. */
  open(token: string): SpeechGrant | null {
    this.sweep();
    const speechId = this.byToken.get(hash(token));
    const entry = speechId === undefined ? undefined : this.entries.get(speechId);
    if (!entry || speechId === undefined || entry.players >= MAX_PLAYERS_PER_TOKEN) return null;
    entry.players += 1;
    const seat = {};
    let released = false;
    return {
      user: entry.user,
      speechId,
      tape: entry.tape,
      release: () => {
        if (released) return;
        released = true;
        entry.players -= 1;
        entry.listening.delete(seat);
      },
      setListening: (on) => {
        if (released) return;
        if (on) entry.listening.add(seat);
        else entry.listening.delete(seat);
      },
    };
  }

  /** In-chat players of the user's kept speeches that have audio on. */
  listening(user: string): number {
    let count = 0;
    for (const entry of this.entries.values()) if (entry.user === user) count += entry.listening.size;
    return count;
  }

  /** In-chat players connected to one speech, and those of them with audio on. */
  audience(speechId: string): { reached: number; listening: number } {
    const entry = this.entries.get(speechId);
    return { reached: entry?.players ?? 0, listening: entry?.listening.size ?? 0 };
  }

  private sweep(): void {
    const now = this.now();
    for (const [id, entry] of this.entries) if (entry.expiresAt <= now) this.drop(id);
  }

  private drop(speechId: string): void {
    const entry = this.entries.get(speechId);
    if (entry?.tokenHash) this.byToken.delete(entry.tokenHash);
    this.entries.delete(speechId);
  }
}
