/**
 * Usage days and the daily budget in DynamoDB. A day is one item `d#<day>`: `chars`, `credits`, `booked`
 * (chars + outstanding reservations) and one `r_<id>` attribute per outstanding reservation. Reserving is
 * one conditional UpdateItem (`booked <= limit - n`, then `ADD booked :n` and `SET r_<id>`); committing and
 * refunding REMOVE the attribute under `attribute_exists`, so each reservation is settled exactly once,
 * whichever task gets there first — no transactions needed.
 */
import type { BudgetDecision, BudgetRequest, DailyUsage, Reservation, UsageAmount } from '../contract.js';
import { checkAmount, checkUser, lastDays, utcDay } from '../shared.js';
import { isConditionFailure } from './aws-errors.js';
import { pk, type TableClient } from './table-client.js';
import { randomId } from '../../random-id.js';

export class DynamoUsage {
  private readonly settled = new WeakSet<Reservation>();

  constructor(
    private readonly table: TableClient,
    private readonly leaseMs: number,
  ) {}

  async add(user: string, amount: UsageAmount, at: Date): Promise<void> {
    checkAmount('characters', amount.characters);
    checkAmount('credits', amount.credits);
    await this.table.update('record usage', {
      Key: dayKey(user, utcDay(at)),
      UpdateExpression: 'ADD chars :c, credits :cr, booked :c',
      ExpressionAttributeValues: { ':c': amount.characters, ':cr': amount.credits },
    });
  }

  async days(user: string, days: number, now: Date): Promise<DailyUsage[]> {
    checkUser(user);
    const dates = lastDays(days, now);
    const rows = await this.table.range('read usage', user, `d#${dates[0]}`, `d#${dates[dates.length - 1]}`);
    const byDay = new Map(rows.map((row) => [String(row.SK).slice(2), row]));
    return dates.map((date) => {
      const row = byDay.get(date);
      const characters = Number(row?.chars ?? 0);
      return {
        date,
        characters,
        credits: Number(row?.credits ?? 0),
        reserved: Number(row?.booked ?? 0) - characters,
      };
    });
  }

  async reserve(request: BudgetRequest, at: Date): Promise<BudgetDecision> {
    const { user, characters, limit } = request;
    checkUser(user);
    checkAmount('characters', characters);
    const day = utcDay(at);
    const reservation: Reservation = {
      id: randomId('rsv_', 9),
      user,
      day,
      characters,
      expiresAt: new Date(at.getTime() + this.leaseMs).toISOString(),
    };
    // The condition below holds for a missing item whatever the limit: refuse the impossible up front.
    if (limit !== null && characters > limit) return { ok: false, used: await this.booked(user, day), limit };
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        await this.table.update('reserve the daily budget', {
          Key: dayKey(user, day),
          UpdateExpression: 'SET #r = :entry ADD booked :n',
          ConditionExpression: limit === null ? undefined : 'attribute_not_exists(booked) OR booked <= :max',
          ExpressionAttributeNames: { '#r': `r_${reservation.id}` },
          ExpressionAttributeValues: {
            ':entry': { n: characters, exp: Date.parse(reservation.expiresAt) },
            ':n': characters,
            ...(limit === null ? {} : { ':max': limit - characters }),
          },
        });
        return { ok: true, reservation };
      } catch (error) {
        if (!isConditionFailure((error as Error).cause)) throw error;
      }
      // Refused: give back bookings whose lease ran out (a crashed task's), then try once more.
      if ((await this.reclaim(user, day, at.getTime())) === 0) break;
    }
    return { ok: false, used: await this.booked(user, day), limit: limit ?? 0 };
  }

  async commit(reservation: Reservation, actual: UsageAmount): Promise<void> {
    checkAmount('characters', actual.characters);
    checkAmount('credits', actual.credits);
    if (this.settled.has(reservation)) return;
    const values = { ':c': actual.characters, ':cr': actual.credits };
    const held = await this.take(reservation, 'ADD chars :c, credits :cr, booked :delta', {
      ...values,
      ':delta': actual.characters - reservation.characters,
    });
    if (!held) {
      // Reclaimed after its lease: its booking is gone already, only what was spent remains to add.
      await this.table.update('record usage', {
        Key: dayKey(reservation.user, reservation.day),
        UpdateExpression: 'ADD chars :c, credits :cr, booked :c',
        ExpressionAttributeValues: values,
      });
    }
    this.settled.add(reservation);
  }

  async refund(reservation: Reservation): Promise<void> {
    if (this.settled.has(reservation)) return;
    await this.take(reservation, 'ADD booked :minus', { ':minus': -reservation.characters });
    this.settled.add(reservation);
  }

  /** Removes the reservation's attribute and applies `change` in one conditional write; false if it was gone. */
  private async take(
    reservation: Reservation,
    change: string,
    values: Record<string, number>,
  ): Promise<boolean> {
    try {
      await this.table.update('settle a reservation', {
        Key: dayKey(reservation.user, reservation.day),
        UpdateExpression: `REMOVE #r ${change}`,
        ConditionExpression: 'attribute_exists(#r)',
        ExpressionAttributeNames: { '#r': `r_${reservation.id}` },
        ExpressionAttributeValues: values,
      });
      return true;
    } catch (error) {
      if (isConditionFailure((error as Error).cause)) return false;
      throw error;
    }
  }

  /** Gives back the day's bookings whose lease expired; each is taken by exactly one caller. */
  private async reclaim(user: string, day: string, now: number): Promise<number> {
    let reclaimed = 0;
    for (const [name, value] of Object.entries(
      (await this.table.get('read usage', dayKey(user, day))) ?? {},
    )) {
      const entry = value as { n?: number; exp?: number };
      if (!name.startsWith('r_') || entry.exp === undefined || entry.exp > now) continue;
      const stale: Reservation = {
        id: name.slice(2),
        user,
        day,
        characters: Number(entry.n ?? 0),
        expiresAt: '',
      };
      if (await this.take(stale, 'ADD booked :minus', { ':minus': -stale.characters })) reclaimed++;
    }
    return reclaimed;
  }

  private async booked(user: string, day: string): Promise<number> {
    return Number((await this.table.get('read usage', dayKey(user, day)))?.booked ?? 0);
  }
}

function dayKey(user: string, day: string): { PK: string; SK: string } {
  return { PK: pk(user), SK: `d#${day}` };
}
