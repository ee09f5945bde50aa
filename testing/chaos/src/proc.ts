import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** What /proc says about a process: memory and open descriptors (Linux only, like the deployments). */
export interface ProcSample {
  readonly rssKiB: number;
  readonly fds: number;
  readonly sockets: number;
  /** User + system CPU time so far. */
  readonly cpuMs: number;
}

/** Clock ticks per second for /proc/PID/stat times; 100 on every Linux this runs on. */
const CLK_TCK = 100;

export function sampleProc(pid: number): ProcSample | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rssKiB = Number(/^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1] ?? NaN);
    let fds = 0;
    let sockets = 0;
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      fds++;
      try {
        if (readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:')) sockets++;
      } catch {
        // Closed between readdir and readlink.
      }
    }
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpuMs = ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
    return { rssKiB, fds, sockets, cpuMs };
  } catch {
    return undefined;
  }
}

export function procAvailable(): boolean {
  return sampleProc(process.pid) !== undefined;
}
