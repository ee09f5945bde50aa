import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BACKENDS,
  startBackend,
  uniqueUser,
  type BackendFixture,
} from '../../test/support/storage-backends.js';
import type { Reservation, Store } from './contract.js';

const NOON = new Date('2026-03-10T12:00:00.000Z');
const hoursLater = (hours: number) => new Date(NOON.getTime() + hours * 3_600_000);

describe.each(BACKENDS)('store contract: usage and the daily budget (%s)', (kind) => {
  let backend: BackendFixture;
  let store: Store;
  let other: Store;

  beforeAll(async () => {
    backend = await startBackend(kind);
    store = await backend.open({ now: () => NOON, reservationLeaseMs: 60_000 });
    other = await backend.open({ now: () => NOON, reservationLeaseMs: 60_000 });
  });
  afterAll(() => backend?.close());

  const reserve = async (on: Store, user: string, characters: number, limit: number | null, at = NOON) => {
    const decision = await on.reserveBudget({ user, characters, limit, at });
    if (!decision.ok) throw new Error(`refused: ${decision.used} of ${decision.limit}`);
    return decision.reservation;
  };

  it('adds usage per UTC day and reports N days, oldest first, with zeros', async () => {
    const user = uniqueUser();
    await store.addUsage(user, { characters: 10, credits: 1 }, NOON);
    await other.addUsage(user, { characters: 5, credits: 2.5 }, hoursLater(11.9));
    await store.addUsage(user, { characters: 7, credits: 3 }, hoursLater(-24));
    expect(await other.getUsage(user, 3, NOON)).toEqual([
      { date: '2026-03-08', characters: 0, credits: 0, reserved: 0 },
      { date: '2026-03-09', characters: 7, credits: 3, reserved: 0 },
      { date: '2026-03-10', characters: 15, credits: 3.5, reserved: 0 },
    ]);
    expect(await store.getUsage(user, 1, hoursLater(12))).toEqual([
      { date: '2026-03-11', characters: 0, credits: 0, reserved: 0 },
    ]);
  });

  it('never loses concurrent increments from two instances', async () => {
    const user = uniqueUser();
    await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        (i % 2 ? other : store).addUsage(user, { characters: i, credits: 1 }, NOON),
      ),
    );
    const [today] = await store.getUsage(user, 1, NOON);
    expect(today).toMatchObject({ characters: (59 * 60) / 2, credits: 60 });
  });

  it('reserves, commits what was really spent, and refunds a failed speech', async () => {
    const user = uniqueUser();
    const first = await reserve(store, user, 40, 100);
    expect(first).toMatchObject({ user, day: '2026-03-10', characters: 40 });
    expect((await other.getUsage(user, 1))[0]).toMatchObject({ characters: 0, reserved: 40 });
    const second = await reserve(other, user, 50, 100);
    expect(await store.reserveBudget({ user, characters: 11, limit: 100, at: NOON })).toEqual({
      ok: false,
      used: 90,
      limit: 100,
    });
    await store.commitReservation(first, { characters: 38, credits: 19 });
    expect((await store.getUsage(user, 1))[0]).toMatchObject({ characters: 38, credits: 19, reserved: 50 });
    await other.refundReservation(second);
    expect((await store.getUsage(user, 1))[0]).toMatchObject({ characters: 38, credits: 19, reserved: 0 });
    // Settling twice changes nothing.
    await store.commitReservation(first, { characters: 38, credits: 19 });
    await other.refundReservation(second);
    expect((await store.getUsage(user, 1))[0]).toMatchObject({ characters: 38, reserved: 0 });
    // The whole remaining budget fits exactly; one more character does not; no limit always fits.
    const rest = await reserve(store, user, 62, 100);
    expect((await store.reserveBudget({ user, characters: 1, limit: 100, at: NOON })).ok).toBe(false);
    expect((await store.reserveBudget({ user, characters: 500, limit: 100, at: NOON })).ok).toBe(false);
    await reserve(store, user, 1000, null);
    await store.refundReservation(rest);
  });

  it('never lets concurrent reservations from two instances pass the limit', async () => {
    const user = uniqueUser();
    const decisions = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        (i % 2 ? other : store).reserveBudget({ user, characters: 10, limit: 100, at: NOON }),
      ),
    );
    expect(decisions.filter((decision) => decision.ok)).toHaveLength(10);
    expect((await store.getUsage(user, 1))[0]).toMatchObject({ characters: 0, reserved: 100 });
  });

  it('counts a reservation on its own day, even when committed after midnight', async () => {
    const user = uniqueUser();
    const late = new Date('2026-03-10T23:59:59.000Z');
    const reservation = await reserve(store, user, 20, 100, late);
    await store.commitReservation(reservation, { characters: 20, credits: 2 });
    expect(await store.getUsage(user, 2, new Date('2026-03-11T00:10:00.000Z'))).toEqual([
      { date: '2026-03-10', characters: 20, credits: 2, reserved: 0 },
      { date: '2026-03-11', characters: 0, credits: 0, reserved: 0 },
    ]);
  });

  it('reclaims a crashed process’s reservation after its lease, and still records its spending if it commits late', async () => {
    const user = uniqueUser();
    const crashed: Reservation = await reserve(store, user, 80, 100);
    // Within the lease the booking holds.
    expect((await other.reserveBudget({ user, characters: 30, limit: 100, at: hoursLater(0.01) })).ok).toBe(
      false,
    );
    // After it (lease 60 s) another instance may take the budget back.
    const after = await reserve(other, user, 30, 100, hoursLater(0.1));
    expect((await other.getUsage(user, 1))[0]).toMatchObject({ reserved: 30 });
    await store.commitReservation(crashed, { characters: 80, credits: 8 });
    expect((await other.getUsage(user, 1))[0]).toMatchObject({ characters: 80, reserved: 30 });
    await other.commitReservation(after, { characters: 30, credits: 3 });
    expect((await store.getUsage(user, 1))[0]).toMatchObject({ characters: 110, credits: 11, reserved: 0 });
  });

  it('maintain() reclaims expired reservations (SQLite) or leaves them to the next reservation (DynamoDB)', async () => {
    const user = uniqueUser();
    await reserve(store, user, 10, null);
    await store.maintain(hoursLater(1));
    const reserved = (await store.getUsage(user, 1))[0]!.reserved;
    expect(reserved).toBe(kind === 'sqlite' ? 0 : 10);
  });
});
