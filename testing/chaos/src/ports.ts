/**
 * Which input opened which client port. When the server is left holding a connection (CLOSE_WAIT: the
 * client went away, the server never closed its side), its peer port names the input that caused it.
 */
const byPort = new Map<number, string>();
const MAX_REMEMBERED = 50_000;

export function rememberPort(port: number | undefined, what: string | undefined): void {
  if (port === undefined || what === undefined) return;
  byPort.delete(port);
  byPort.set(port, what);
  if (byPort.size > MAX_REMEMBERED) byPort.delete(byPort.keys().next().value!);
}

export function whoUsedPort(port: number): string | undefined {
  return byPort.get(port);
}
