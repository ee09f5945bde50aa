import type { FastifyBaseLogger, FastifyServerOptions } from 'fastify';

type ChildLoggerFactory = NonNullable<FastifyServerOptions['childLoggerFactory']>;

type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';
type Bindings = Parameters<FastifyBaseLogger['child']>[0];
type ChildOptions = NonNullable<Parameters<FastifyBaseLogger['child']>[1]>;

/**
 * Fastify's `childLoggerFactory`: each request's logger (`request.log`, bound to its request id) is made the first
 * time the request logs, not when it arrives. Making a pino child serialises its bindings; on every call's way to
 * its answer that was ~35 µs with warm caches, and most requests log once, after their answer (the access line),
 * or never (health checks). A route with a log level of its own gets its child at once: its level must hold for
 * everything the request does.
 */
export const lazyChildLogger: ChildLoggerFactory = (logger, bindings, options) =>
  options.level === undefined
    ? new LazyChildLogger(logger, bindings, options)
    : logger.child(bindings, options);

/** A FastifyBaseLogger whose pino child is made at its first use (methods on the prototype: nothing per request). */
class LazyChildLogger {
  private made: FastifyBaseLogger | undefined;

  constructor(
    private readonly parent: FastifyBaseLogger,
    private readonly bindings: Bindings,
    private readonly options: ChildOptions,
  ) {}

  get level(): string {
    return this.made?.level ?? this.parent.level;
  }

  set level(level: string) {
    this.materialise().level = level;
  }

  fatal(...args: unknown[]): void {
    this.log('fatal', args);
  }
  error(...args: unknown[]): void {
    this.log('error', args);
  }
  warn(...args: unknown[]): void {
    this.log('warn', args);
  }
  info(...args: unknown[]): void {
    this.log('info', args);
  }
  debug(...args: unknown[]): void {
    this.log('debug', args);
  }
  trace(...args: unknown[]): void {
    this.log('trace', args);
  }
  silent(): void {}

  child(bindings: Bindings, options?: ChildOptions): FastifyBaseLogger {
    return this.materialise().child(bindings, options);
  }

  private log(level: Level, args: unknown[]): void {
    // A level the parent does not write needs no child either: until one is made, its level is the parent's.
    if (this.made === undefined && !isEnabled(this.parent, level)) return;
    const child = this.materialise();
    Reflect.apply(child[level], child, args);
  }

  private materialise(): FastifyBaseLogger {
    return (this.made ??= this.parent.child(this.bindings, this.options));
  }
}

function isEnabled(logger: FastifyBaseLogger, level: Level): boolean {
  const check = (logger as { isLevelEnabled?: (level: string) => boolean }).isLevelEnabled;
  return check === undefined ? true : check.call(logger, level);
}
