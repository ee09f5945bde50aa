/**
 * Defers work behind I/O that is waiting, one piece per turn of the event loop. Each `turn()` resolves in a
 * turn of its own, after the I/O ready by then (sockets with data: requests, upstream audio) has been handled.
 *
 * Why: when 200 tool calls arrive at once, each begins its speech as soon as its request is read and then
 * waits here for the rest of its work (the MCP SDK's, a millisecond or so per call). Resolved all at once —
 * as plain `setImmediate` would, every immediate queued before a turn's check phase runs in it — that work
 * would run back to back and hold up the audio arriving meanwhile by a fifth of a second; one piece per turn,
 * the audio waits for one piece at most.
 */
export class OneTurnAtATime {
  private readonly waiting: (() => void)[] = [];
  private scheduled = false;

  turn(): Promise<void> {
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.waiting.length === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.waiting.shift()!();
      this.schedule();
    });
  }
}
