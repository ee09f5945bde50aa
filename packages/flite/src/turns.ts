/**
 * Waiting work kept per requester (a user), handed out in turns: the next job goes to the waiting
 * requester served least recently (a newcomer first), and a requester with a job already running waits
 * for it to finish. So no requester can take every worker, and a long speech cannot push ahead of another
 * user's first sentence.
 */
export class RequesterTurns<T> {
  /** Requesters with waiting items, in order of arrival (ties go to whoever came first). */
  private readonly queues = new Map<string, T[]>();
  /** When each requester with work waiting or running was last served. */
  private readonly lastTurn = new Map<string, number>();
  private turns = 0;

  get size(): number {
    let size = 0;
    for (const queue of this.queues.values()) size += queue.length;
    return size;
  }

  get hasWaiting(): boolean {
    return this.queues.size > 0;
  }

  push(requester: string, item: T): void {
    const queue = this.queues.get(requester);
    if (queue) queue.push(item);
    else this.queues.set(requester, [item]);
  }

  /** Removes a waiting item (aborted); false if it was not waiting. */
  remove(requester: string, item: T): boolean {
    const queue = this.queues.get(requester);
    const index = queue?.indexOf(item) ?? -1;
    if (!queue || index < 0) return false;
    queue.splice(index, 1);
    if (queue.length === 0) this.queues.delete(requester);
    return true;
  }

  /** How many requesters wait with nothing running, i.e. could use a worker now. */
  waitingRequesters(running: ReadonlySet<string>): number {
    let count = 0;
    for (const requester of this.queues.keys()) if (!running.has(requester)) count++;
    return count;
  }

  /** The next item in turn among requesters with nothing running, recorded as served; undefined if none. */
  take(running: ReadonlySet<string>): { requester: string; item: T } | undefined {
    for (const requester of this.lastTurn.keys())
      if (!running.has(requester) && !this.queues.has(requester)) this.lastTurn.delete(requester);
    let next: string | undefined;
    for (const requester of this.queues.keys()) {
      if (running.has(requester)) continue;
      if (next === undefined || this.turnOf(requester) < this.turnOf(next)) next = requester;
    }
    if (next === undefined) return undefined;
    const queue = this.queues.get(next)!;
    const item = queue.shift()!;
    if (queue.length === 0) this.queues.delete(next);
    this.lastTurn.set(next, this.turns++);
    return { requester: next, item };
  }

  /** Empties every queue, returning what waited. */
  drain(): T[] {
    const items = [...this.queues.values()].flat();
    this.queues.clear();
    return items;
  }

  private turnOf(requester: string): number {
    return this.lastTurn.get(requester) ?? -1;
  }
}
