import WebSocket from 'ws';

/** process.memoryUsage() of the server, in bytes, taken right after a forced full garbage collection. */
export interface LiveMemory {
  readonly rss: number;
  readonly heapUsed: number;
  readonly heapTotal: number;
  /** Memory held by Buffers and other C++ objects bound to JS (audio chunks live here). */
  readonly external: number;
}

/**
 * The server's V8 inspector (it runs with `--inspect=127.0.0.1:0` in the fuzz scenarios). RSS alone cannot
 * tell a leak from a heap V8 has grown and not yet given back (it commits hundreds of MiB under this
 * load and keeps them), so leaks are judged on what survives a forced full GC: heap used plus external.
 */
export class Inspector {
  private nextId = 1;
  private readonly pending = new Map<number, (result: unknown) => void>();

  private constructor(private readonly socket: WebSocket) {
    socket.on('message', (data) => {
      const message = JSON.parse((data as Buffer).toString()) as {
        id?: number;
        result?: unknown;
        error?: unknown;
      };
      if (message.id === undefined) return;
      this.pending.get(message.id)?.(message.error ? undefined : message.result);
      this.pending.delete(message.id);
    });
  }

  static connect(url: string, timeoutMs = 10_000): Promise<Inspector> {
    const socket = new WebSocket(url, { handshakeTimeout: timeoutMs });
    return new Promise((resolve, reject) => {
      socket.once('open', () => resolve(new Inspector(socket)));
      socket.once('error', reject);
    });
  }

  private call(method: string, params: Record<string, unknown> = {}, timeoutMs = 30_000): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`inspector ${method} got no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, (result) => {
        clearTimeout(timer);
        resolve(result);
      });
      this.socket.send(JSON.stringify({ id, method, params }));
    });
  }

  /** Collects garbage twice (the second pass catches what finalizers released) and reads memory. */
  async liveMemory(): Promise<LiveMemory | undefined> {
    await this.call('HeapProfiler.collectGarbage');
    await this.call('HeapProfiler.collectGarbage');
    const result = (await this.call('Runtime.evaluate', {
      expression: 'JSON.stringify(process.memoryUsage())',
      returnByValue: true,
    })) as { result?: { value?: string } } | undefined;
    return result?.result?.value ? (JSON.parse(result.result.value) as LiveMemory) : undefined;
  }

  close(): void {
    this.socket.terminate();
  }
}
