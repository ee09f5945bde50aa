/**
 * Usage days and the daily budget in SQLite. `usage.reserved` holds the day's outstanding reservations,
 * one row each in `reservations`; every change runs in a BEGIN IMMEDIATE transaction, so two processes
 * reserving at once are serialised by SQLite's write lock and never pass the limit together. A reservation
 * is its own transaction, taken before money is spent; settling one (after the speech) goes through the
 * store's group commit and may share its transaction with other speeches' writes.
 */
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { BudgetDecision, DailyUsage, Reservation, UsageAmount } from '../contract.js';
import { utcDay } from '../shared.js';
import { transaction } from './database.js';
import { randomId } from '../../random-id.js';

export class UsageTable {
  private readonly bumpDay: StatementSync;
  private readonly range: StatementSync;
  private readonly day: StatementSync;
  private readonly insertReservation: StatementSync;
  private readonly takeReservation: StatementSync;
  private readonly staleForDay: StatementSync;
  private readonly stale: StatementSync;
  /** Settled and committed: settling them again is a no-op. */
  private readonly settled = new WeakSet<Reservation>();
  /** Settles queued in a batch that has not committed yet. */
  private readonly settling = new WeakMap<Reservation, Promise<void>>();

  /**
   * `write` runs statements in the store's group commit and resolves once they are committed (it opens the
   * transaction; the work passed to it opens none).
   */
  constructor(
    private readonly db: DatabaseSync,
    private readonly leaseMs: number,
    private readonly write: (work: () => void) => Promise<void>,
  ) {
    this.bumpDay = db.prepare(
      `INSERT INTO usage (user, day, characters, credits, reserved) VALUES (:user, :day, :characters, :credits, :reserved)
       ON CONFLICT (user, day) DO UPDATE SET characters = characters + excluded.characters,
         credits = credits + excluded.credits, reserved = reserved + excluded.reserved`,
    );
    this.range = db.prepare(
      'SELECT day, characters, credits, reserved FROM usage WHERE user = ? AND day BETWEEN ? AND ?',
    );
    this.day = db.prepare('SELECT characters, reserved FROM usage WHERE user = ? AND day = ?');
    this.insertReservation = db.prepare(
      'INSERT INTO reservations (id, user, day, characters, expires_at) VALUES (?, ?, ?, ?, ?)',
    );
    this.takeReservation = db.prepare('DELETE FROM reservations WHERE id = ? RETURNING characters');
    this.staleForDay = db.prepare(
      'DELETE FROM reservations WHERE user = ? AND day = ? AND expires_at <= ? RETURNING characters',
    );
    this.stale = db.prepare('DELETE FROM reservations WHERE expires_at <= ? RETURNING user, day, characters');
  }

  /** Adds to one day's counters (inside the caller's transaction, or as one statement). */
  bump(user: string, day: string, characters: number, credits: number, reserved: number): void {
    this.bumpDay.run({ user, day, characters, credits, reserved });
  }

  days(user: string, dates: string[]): DailyUsage[] {
    const rows = this.range.all(user, dates[0]!, dates[dates.length - 1]!) as unknown as (DailyUsage & {
      day: string;
    })[];
    const byDay = new Map(rows.map((row) => [row.day, row]));
    return dates.map((date) => {
      const row = byDay.get(date);
      return {
        date,
        characters: row?.characters ?? 0,
        credits: row?.credits ?? 0,
        reserved: row?.reserved ?? 0,
      };
    });
  }

  reserve(user: string, characters: number, limit: number | null, at: Date): BudgetDecision {
    const day = utcDay(at);
    return transaction(this.db, (): BudgetDecision => {
      if (limit !== null) {
        let used = this.used(user, day);
        // A crashed process's bookings whose lease ran out go back, looked for only when they could be what
        // refuses this one (as the DynamoDB store does; maintain() reclaims the rest): two statements fewer on
        // every speech's way to ElevenLabs, and the same decision, since reclaiming only ever lowers `used`.
        if (used + characters > limit) {
          for (const stale of this.staleForDay.all(user, day, at.getTime()) as { characters: number }[])
            this.bump(user, day, 0, 0, -stale.characters);
          used = this.used(user, day);
        }
        if (used + characters > limit) return { ok: false, used, limit };
      }
      const reservation: Reservation = {
        id: randomId('rsv_', 9),
        user,
        day,
        characters,
        expiresAt: new Date(at.getTime() + this.leaseMs).toISOString(),
      };
      this.insertReservation.run(reservation.id, user, day, characters, Date.parse(reservation.expiresAt));
      this.bump(user, day, 0, 0, characters);
      return { ok: true, reservation };
    });
  }

  /** Characters spoken and booked on one day. */
  private used(user: string, day: string): number {
    const today = this.day.get(user, day) as { characters: number; reserved: number } | undefined;
    return (today?.characters ?? 0) + (today?.reserved ?? 0);
  }

  commit(reservation: Reservation, actual: UsageAmount): Promise<void> {
    return this.settle(reservation, (held) => ({ ...actual, reserved: -held }));
  }

  refund(reservation: Reservation): Promise<void> {
    return this.settle(reservation, (held) => ({ characters: 0, credits: 0, reserved: -held }));
  }

  /** Gives back every reservation whose lease has run out; returns how many. */
  reclaimExpired(now: Date): number {
    return transaction(this.db, () => {
      const stale = this.stale.all(now.getTime()) as { user: string; day: string; characters: number }[];
      for (const row of stale) this.bump(row.user, row.day, 0, 0, -row.characters);
      return stale.length;
    });
  }

  /**
   * Deletes the reservation row (once, whoever gets there first) and applies its usage change. Settling the
   * same reservation again is a no-op once the first settle committed — also when the second comes while the
   * first still waits in its batch: it waits for it, and tries itself only if the first failed. (Run both in
   * one batch, the second would find the row gone, take it for a reclaimed booking and add the spending again.)
   */
  private settle(
    reservation: Reservation,
    change: (held: number) => UsageAmount & { reserved: number },
  ): Promise<void> {
    if (this.settled.has(reservation)) return Promise.resolve();
    const earlier = this.settling.get(reservation);
    if (earlier) return earlier.then(undefined, () => this.settle(reservation, change));
    const done = this.write(() => {
      const held = this.takeReservation.get(reservation.id) as { characters: number } | undefined;
      // Reclaimed after its lease: the booking is already gone, only what was spent remains to add.
      const delta = change(held?.characters ?? 0);
      this.bump(reservation.user, reservation.day, delta.characters, delta.credits, delta.reserved);
    })
      // Marked only once committed: a settle whose batch failed may be tried again (the caller's retry).
      .then(() => void this.settled.add(reservation))
      .finally(() => this.settling.delete(reservation));
    this.settling.set(reservation, done);
    return done;
  }
}
