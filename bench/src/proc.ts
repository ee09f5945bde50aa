import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/PID/stat times: 100 on every Linux this runs on (USER_HZ). */
const CLK_TCK = 100;

/** User + system CPU time of a whole process (every thread) so far, in ms; 10 ms resolution. */
export function cpuMs(pid: number): number {
  const { userMs, systemMs } = statTimes(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  return userMs + systemMs;
}

/** User and system CPU time in ms of a thread or process from its stat line, with its name (comm). */
// Fields after the command name (which may hold spaces and parentheses): utime and stime are the 12th and 13th.
function statTimes(stat: string): { name: string; userMs: number; systemMs: number } {
  const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return {
    name,
    userMs: (Number(fields[11]) * 1000) / CLK_TCK,
    systemMs: (Number(fields[12]) * 1000) / CLK_TCK,
  };
}

/**
 * CPU time so far of each kind of thread of a process, in ms, by thread name: the event loop (the process's
 * own name), libuv's pool (`libuv-worker`: file system, DNS, crypto jobs), V8's helpers (`V8 DefaultWorke`:
 * concurrent GC and compilation) and Node's others. User and system time apart: system time is what the
 * kernel spent for the thread (socket writes, fsync). Threads that ended before the call are not counted.
 */
export function cpuByThread(pid: number): Map<string, { userMs: number; systemMs: number }> {
  const byName = new Map<string, { userMs: number; systemMs: number }>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    } catch {
      continue; // the thread ended between the listing and the read
    }
    const { name, userMs, systemMs } = statTimes(stat);
    const kind = tid === String(pid) ? 'event loop' : name;
    const sum = byName.get(kind) ?? { userMs: 0, systemMs: 0 };
    byName.set(kind, { userMs: sum.userMs + userMs, systemMs: sum.systemMs + systemMs });
  }
  return byName;
}

/** What each kind of thread spent between two cpuByThread readings (kinds only in `after` count whole). */
export function cpuByThreadSince(
  before: Map<string, { userMs: number; systemMs: number }>,
  after: Map<string, { userMs: number; systemMs: number }>,
): Record<string, { userS: number; systemS: number }> {
  const spent: Record<string, { userS: number; systemS: number }> = {};
  for (const [kind, { userMs, systemMs }] of after) {
    const was = before.get(kind) ?? { userMs: 0, systemMs: 0 };
    spent[kind] = { userS: (userMs - was.userMs) / 1000, systemS: (systemMs - was.systemMs) / 1000 };
  }
  return spent;
}

/** A line of /proc/PID/status in kB (VmRSS: resident now; VmHWM: the peak since the process started). */
export function statusKiB(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm').exec(status);
  if (!match) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(match[1]);
}

/**
 * The highest VmRSS seen while it runs, sampled every `everyMs` (cheap: one small file read). VmHWM would
 * give the peak since start, including whatever earlier scenarios left behind; this is the peak of one phase.
 */
export class RssPeak {
  private peakKiB = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly pid: number,
    everyMs = 100,
  ) {
    this.sample();
    this.timer = setInterval(() => this.sample(), everyMs);
    this.timer.unref();
  }

  private sample(): void {
    try {
      this.peakKiB = Math.max(this.peakKiB, statusKiB(this.pid, 'VmRSS'));
    } catch {
      // The process has gone; the caller finds out from its own requests.
    }
  }

  /** Stops sampling and returns the peak in MB (10^6 bytes). */
  stop(): number {
    clearInterval(this.timer);
    this.sample();
    return (this.peakKiB * 1024) / 1e6;
  }
}

/** The soft and hard limits on open descriptors of this process (Node raises the soft one to the hard one). */
export function fdLimits(): { soft: number; hard: number } {
  const limits = readFileSync('/proc/self/limits', 'utf8');
  const match = /^Max open files\s+(\S+)\s+(\S+)/m.exec(limits);
  const parse = (value: string | undefined) => (value === 'unlimited' ? Infinity : Number(value));
  return { soft: parse(match?.[1]), hard: parse(match?.[2]) };
}
