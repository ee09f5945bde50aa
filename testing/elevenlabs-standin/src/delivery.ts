import type { ServerResponse } from 'node:http';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ByteFault } from './faults.js';

/**
 * Writes a response body with backpressure, applying a reset or stall fault at its byte offset.
 * `write` resolves false once the response can take no more (client gone, or reset).
 */
export class BodyWriter {
  private written = 0;
  private faultDone = false;
  private dead = false;

  constructor(
    private readonly res: ServerResponse,
    private readonly fault: ByteFault | undefined,
    private readonly signal: AbortSignal,
  ) {}

  get bytesWritten(): number {
    return this.written;
  }

  get alive(): boolean {
    return !this.dead && !this.res.destroyed && !this.signal.aborted;
  }

  async write(bytes: Buffer): Promise<boolean> {
    let rest = bytes;
    while (rest.length > 0) {
      if (!this.alive) return false;
      const untilFault = this.fault && !this.faultDone ? this.fault.afterBytes - this.written : Infinity;
      if (untilFault <= 0) {
        await this.applyFault();
        continue;
      }
      const piece = rest.subarray(0, Math.min(rest.length, untilFault));
      rest = rest.subarray(piece.length);
      this.written += piece.length;
      if (!this.res.write(piece)) await this.drained();
    }
    if (this.fault && !this.faultDone && this.fault.afterBytes <= this.written) await this.applyFault();
    return this.alive;
  }

  /** Ends the body, unless a reset fault is still due at its very end. */
  async end(): Promise<void> {
    if (this.fault && !this.faultDone && this.fault.afterBytes <= this.written) await this.applyFault();
    if (this.alive) this.res.end();
  }

  private async applyFault(): Promise<void> {
    const fault = this.fault;
    this.faultDone = true;
    if (!fault) return;
    if (fault.kind === 'stall') {
      const stalled = sleep(fault.ms, undefined, { signal: this.signal }).catch(() => undefined);
      await (fault.until ? Promise.race([stalled, fault.until.catch(() => undefined)]) : stalled);
      return;
    }
    // Let what was written reach the client, then cut the connection without a proper chunked end.
    this.dead = true;
    if (!this.res.headersSent) this.res.flushHeaders();
    const socket = this.res.socket;
    if (socket && socket.writableLength > 0) {
      await Promise.race([once(socket, 'drain'), sleep(200)]).catch(() => undefined);
    }
    socket?.destroy();
    this.res.destroy();
  }

  private async drained(): Promise<void> {
    if (this.res.destroyed) return;
    const settled = new AbortController();
    const signal = AbortSignal.any([this.signal, settled.signal]);
    await Promise.race([once(this.res, 'drain', { signal }), once(this.res, 'close', { signal })]).catch(
      () => undefined,
    );
    settled.abort();
  }
}
