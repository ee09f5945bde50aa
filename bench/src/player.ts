import WebSocket, { type RawData } from 'ws';

/** What one player saw of one speech. Times are performance.now() in the load generator. */
export interface StreamRecord {
  /** When the call that asked for this speech was made. */
  readonly calledAt: number;
  firstAudioAt: number | undefined;
  lastAudioAt: number | undefined;
  /** Binary (audio) frame payload bytes. */
  audioBytes: number;
  /** Text (JSON) frame bytes: speech.start, alignment, end. */
  textBytes: number;
  /** How it finished: the server's end marker, an error message, the socket closing, or our deadline. */
  outcome: 'end' | 'error' | 'closed' | 'timeout' | undefined;
}

export interface PlayerOptions {
  readonly protocols?: readonly string[];
  readonly origin?: string;
}

/**
 * A player tab as the load generator plays it: connects, then records the next stream it is told to
 * expect. Kept cheap per frame (thousands of them share one CPU with the stand-in): binary frames only
 * update counters; text frames are parsed only when small, since the end and error messages are small
 * and alignment messages (the large ones) need not be read.
 */
export class Player {
  private current: { record: StreamRecord; resolve: (record: StreamRecord) => void } | undefined;

  private constructor(private readonly socket: WebSocket) {
    socket.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    socket.on('close', () => this.finish('closed'));
    // Errors end in 'close'; without a listener they would crash the load generator.
    socket.on('error', () => undefined);
  }

  static open(url: string, options: PlayerOptions = {}): Promise<Player> {
    // permessage-deflate is offered (ws's default) as browsers do; the server decides whether to use it.
    const socket = new WebSocket(url, [...(options.protocols ?? [])], {
      ...(options.origin ? { origin: options.origin } : {}),
      handshakeTimeout: 30_000,
    });
    return new Promise((resolve, reject) => {
      socket.once('open', () => resolve(new Player(socket)));
      socket.once('unexpected-response', (_request, response) =>
        reject(new Error(`player refused: HTTP ${response.statusCode} at ${url}`)),
      );
      socket.once('error', reject);
    });
  }

  /** Records the next stream: call just before asking for the speech. Bounded by `timeoutMs`. */
  expect(calledAt: number, timeoutMs: number): Promise<StreamRecord> {
    this.finish('timeout');
    const record: StreamRecord = {
      calledAt,
      firstAudioAt: undefined,
      lastAudioAt: undefined,
      audioBytes: 0,
      textBytes: 0,
      outcome: undefined,
    };
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.finish('timeout'), timeoutMs);
      this.current = {
        record,
        resolve: (done) => {
          clearTimeout(timer);
          resolve(done);
        },
      };
    });
  }

  /**
   * Gives up on the stream being recorded (its call failed) after `ms`, unless it ends first: it then
   * resolves with outcome 'error'.
   */
  abandonAfter(ms: number): void {
    const current = this.current;
    setTimeout(() => {
      if (current && this.current === current) this.finish('error');
    }, ms).unref();
  }

  close(): void {
    this.socket.terminate();
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    const record = this.current?.record;
    if (!record) return;
    // binaryType is 'nodebuffer' (the default): every message arrives as one Buffer.
    const message = data as Buffer;
    const bytes = message.length;
    if (isBinary) {
      const now = performance.now();
      record.firstAudioAt ??= now;
      record.lastAudioAt = now;
      record.audioBytes += bytes;
      return;
    }
    record.textBytes += bytes;
    if (bytes > 1024) return;
    let type: unknown;
    try {
      type = (JSON.parse(message.toString('utf8')) as { type?: unknown }).type;
    } catch {
      return;
    }
    if (type === 'speech.end') this.finish('end');
    else if (type === 'speech.error' || type === 'speech.stopped') this.finish('error');
  }

  private finish(outcome: NonNullable<StreamRecord['outcome']>): void {
    const current = this.current;
    if (!current) return;
    this.current = undefined;
    current.record.outcome = outcome;
    current.resolve(current.record);
  }
}
