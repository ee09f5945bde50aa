// `node --import …/pin-start-day.mjs`: keeps a child Earshot on the UTC day it started (see start-day-clock.mjs),
// for tests that spawn `earshot serve` and compare its usage before and after. `Date.now()`, `new Date()` and
// `Date()` read the pinned clock; everything else about Date is unchanged.
import { startDayClock } from './start-day-clock.mjs';

const RealDate = Date;
const now = startDayClock(RealDate.now.bind(RealDate));

const PinnedDate = new Proxy(RealDate, {
  construct: (target, /** @type {unknown[]} */ args, newTarget) =>
    // eslint-disable-next-line @typescript-eslint/no-unsafe-return -- Reflect.construct is typed any; it makes a Date
    Reflect.construct(target, args.length === 0 ? [now()] : args, newTarget),
  apply: () => new RealDate(now()).toString(),
  get: (target, property, receiver) =>
    property === 'now' ? now : /** @type {unknown} */ (Reflect.get(target, property, receiver)),
});
globalThis.Date = PinnedDate;
