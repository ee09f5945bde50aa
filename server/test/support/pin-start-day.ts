/**
 * `node --import tsx --import …/pin-start-day.ts`: keeps a child Earshot on the UTC day it started
 * (see start-day-clock.ts), for tests that spawn `earshot serve` and compare its usage before and after.
 * `Date.now()`, `new Date()` and `Date()` read the pinned clock; everything else about Date is unchanged.
 */
import { startDayClock } from './start-day-clock.js';

const RealDate = Date;
const now = startDayClock(RealDate.now.bind(RealDate));

globalThis.Date = new Proxy(RealDate, {
  construct: (target, args: unknown[], newTarget: () => unknown) =>
    Reflect.construct(target, args.length === 0 ? [now()] : args, newTarget) as object,
  apply: () => new RealDate(now()).toString(),
  get: (target, property, receiver) =>
    property === 'now' ? now : (Reflect.get(target, property, receiver) as unknown),
});
