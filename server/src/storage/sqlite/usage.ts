/**
 * Usage days and the daily budget in SQLite. Each outstanding reservation is one row of `reservations`, and
 * what a day has reserved is the sum of its rows (there is no counter to keep in step with them). Every check
 * against a limit runs in a BEGIN IMMEDIATE transaction with the booking it allows, so two processes reserving
 * at once are serialised by SQLite's write lock and never pass the limit together; a booking without a limit is
 * one INSERT, atomic on its own. A reservation is its own transaction, taken before money is spent: one row,
 * one page written. Settling one (after the speech) goes through the store's group commit and may
 * share its transaction with other speeches' writes.
 */
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { BudgetDecision, DailyUsage, Reservation, UsageAmount } from '../contract.js';
import { utcDay } from '../shared.js';
import { transaction } from './database.js';
import { randomId } from '../../random-id.js';

export class UsageTable {
  private readonly bumpDay: StatementSync;
  private readonly range: StatementSync;
  private readonly reservedRange: StatementSync;
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
      `INSERT INTO usage (user, day, characters, credits) VALUES (:user, :day, :characters, :credits)
       ON CONFLICT (user, day) DO UPDATE SET characters = characters + excluded.characters,
         credits = credits + excluded.credits`,
    );
    this.range = db.prepare(
      'SELECT day, characters, credits FROM usage WHERE user = ? AND day BETWEEN ? AND ?',
    );
    this.reservedRange = db.prepare(
      `SELECT day, sum(characters) AS reserved FROM reservations WHERE user = ? AND day BETWEEN ? AND ?
       GROUP BY day`,
    );
    this.day = db.prepare(
      `SELECT coalesce((SELECT characters FROM usage WHERE user = :user AND day = :day), 0)
         + coalesce((SELECT sum(characters) FROM reservations WHERE user = :user AND day = :day), 0) AS used`,
    );
    this.insertReservation = db.prepare(
      'INSERT INTO reservations (user, day, id, characters, expires_at) VALUES (?, ?, ?, ?, ?)',
    );
    this.takeReservation = db.prepare('DELETE FROM reservations WHERE user = ? AND day = ? AND id = ?');
    this.staleForDay = db.prepare('DELETE FROM reservations WHERE user = ? AND day = ? AND expires_at <= ?');
    this.stale = db.prepare('DELETE FROM reservations WHERE expires_at <= ?');
  }

  /** Adds to one day's counters (inside the caller's transaction, or as one statement). */
  bump(user: string, day: string, characters: number, credits: number): void {
    this.bumpDay.run({ user, day, characters, credits });
  }

  days(user: string, dates: string[]): DailyUsage[] {
    const from = dates[0]!;
    const to = dates[dates.length - 1]!;
    const rows = this.range.all(user, from, to) as unknown as (Omit<DailyUsage, 'reserved'> & {
      day: string;
    })[];
    const reserved = this.reservedRange.all(user, from, to) as { day: string; reserved: number }[];
    const byDay = new Map(rows.map((row) => [row.day, row]));
    const reservedByDay = new Map(reserved.map((row) => [row.day, row.reserved]));
    return dates.map((date) => {
      const row = byDay.get(date);
      return {
        date,
        characters: row?.characters ?? 0,
        credits: row?.credits ?? 0,
        reserved: reservedByDay.get(date) ?? 0,
      };
    });
  }

  reserve(user: string, characters: number, limit: number | null, at: Date): BudgetDecision {
    const day = utcDay(at);
    const book = (): BudgetDecision => {
      const expiresAt = at.getTime() + this.leaseMs;
      const reservation: Reservation = {
        id: randomId('rsv_', 9),
        user,
        day,
        characters,
        expiresAt: new Date(expiresAt).toISOString(),
      };
      this.insertReservation.run(user, day, reservation.id, characters, expiresAt);
      return { ok: true, reservation };
    };
    // No ceiling: nothing is read, and the one INSERT is a transaction of its own (BEGIN … COMMIT would only add
    // two statements on the speech's way to ElevenLabs).
    if (limit === null) return book();
    return transaction(this.db, (): BudgetDecision => {
      let used = this.used(user, day);
      // A crashed process's bookings whose lease ran out go back, looked for only when they could be what
      // refuses this one (as the DynamoDB store does; maintain() reclaims the rest): a statement fewer on every
      // speech's way to ElevenLabs, and the same decision, since reclaiming only ever lowers `used`.
      if (used + characters > limit && Number(this.staleForDay.run(user, day, at.getTime()).changes) > 0)
        used = this.used(user, day);
      if (used + characters > limit) return { ok: false, used, limit };
      return book();
    });
  }

  /** Characters spoken and booked on one day. */
  private used(user: string, day: string): number {
    return Number((this.day.get({ user, day }) as { used: number }).used);
  }

  commit(reservation: Reservation, actual: UsageAmount): Promise<void> {
    return this.settle(reservation, actual);
  }

  refund(reservation: Reservation): Promise<void> {
    return this.settle(reservation, { characters: 0, credits: 0 });
  }

  /** Gives back every reservation whose lease has run out; returns how many. */
  reclaimExpired(now: Date): number {
    return Number(this.stale.run(now.getTime()).changes);
  }

  /**
   * Deletes the reservation row (once, whoever gets there first) and adds what was spent. Settling the
   * same reservation again is a no-op once the first settle committed — also when the second comes while the
   * first still waits in its batch: it waits for it, and tries itself only if the first failed. (Run both in
   * one batch, the second would find the row gone, take it for a reclaimed booking and add the spending again.)
   */
  private settle(reservation: Reservation, spent: UsageAmount): Promise<void> {
    if (this.settled.has(reservation)) return Promise.resolve();
    const earlier = this.settling.get(reservation);
    if (earlier) return earlier.then(undefined, () => this.settle(reservation, spent));
    const { user, day, id } = reservation;
    const done = this.write(() => {
      // Gone already when it was reclaimed after its lease: what was spent is added all the same.
      this.takeReservation.run(user, day, id);
      if (spent.characters !== 0 || spent.credits !== 0)
        this.bump(user, day, spent.characters, spent.credits);
    })
      // Marked only once committed: a settle whose batch failed may be tried again (the caller's retry).
      .then(() => void this.settled.add(reservation))
      .finally(() => this.settling.delete(reservation));
    this.settling.set(reservation, done);
    return done;
  }
}
