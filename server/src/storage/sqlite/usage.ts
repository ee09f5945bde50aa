/**
 * Usage days and the daily budget in SQLite. `usage.reserved` holds the day's outstanding reservations,
 * one row each in `reservations`; every change is one BEGIN IMMEDIATE transaction, so two processes
 * reserving at once are serialised by SQLite's write lock and never pass the limit together.
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
  private readonly settled = new WeakSet<Reservation>();

  constructor(
    private readonly db: DatabaseSync,
    private readonly leaseMs: number,
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

  commit(reservation: Reservation, actual: UsageAmount): void {
    this.settle(reservation, (held) => ({ ...actual, reserved: -held }));
  }

  refund(reservation: Reservation): void {
    this.settle(reservation, (held) => ({ characters: 0, credits: 0, reserved: -held }));
  }

  /** Gives back every reservation whose lease has run out; returns how many. */
  reclaimExpired(now: Date): number {
    return transaction(this.db, () => {
      const stale = this.stale.all(now.getTime()) as { user: string; day: string; characters: number }[];
      for (const row of stale) this.bump(row.user, row.day, 0, 0, -row.characters);
      return stale.length;
    });
  }

  /** Deletes the reservation row (once, whoever gets there first) and applies its usage change. */
  private settle(
    reservation: Reservation,
    change: (held: number) => UsageAmount & { reserved: number },
  ): void {
    if (this.settled.has(reservation)) return;
    transaction(this.db, () => {
      const held = this.takeReservation.get(reservation.id) as { characters: number } | undefined;
      // Reclaimed after its lease: the booking is already gone, only what was spent remains to add.
      const delta = change(held?.characters ?? 0);
      this.bump(reservation.user, reservation.day, delta.characters, delta.credits, delta.reserved);
    });
    this.settled.add(reservation);
  }
}
