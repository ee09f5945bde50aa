import { readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/PID/stat times: 100 on every Linux this runs on (USER_HZ). */
const CLK_TCK = 100;

/** User + system CPU time of a whole process (every thread) so far, in ms; 10 ms resolution. */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces and parentheses): utime and stime are the 12th and 13th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
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
