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

/** What the process's descriptors point at, grouped ("socket" ×5, "/data/…/x.pcm" ×2), for leak reports. */
export function describeFds(pid: number): string {
  const targets = new Map<string, number>();
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      let target: string;
      try {
        target = readlinkSync(`/proc/${pid}/fd/${fd}`).replace(/^(socket|pipe|anon_inode):.*$/, '$1');
      } catch {
        continue;
      }
      targets.set(target, (targets.get(target) ?? 0) + 1);
    }
  } catch {
    return 'unreadable';
  }
  const states = tcpStates(pid);
  return [...targets]
    .sort((a, b) => b[1] - a[1])
    .map(([target, n]) => `${target} ×${n}${target === 'socket' && states ? ` (${states})` : ''}`)
    .join(', ');
}

const TCP_STATES: Record<string, string> = {
  '01': 'ESTABLISHED',
  '02': 'SYN_SENT',
  '04': 'FIN_WAIT1',
  '05': 'FIN_WAIT2',
  '06': 'TIME_WAIT',
  '07': 'CLOSE',
  '08': 'CLOSE_WAIT',
  '09': 'LAST_ACK',
  '0A': 'LISTEN',
  '0B': 'CLOSING',
};

/** TCP states of the process's sockets ("LISTEN 1, ESTABLISHED 2, CLOSE_WAIT 1"): who left whom hanging. */
function tcpStates(pid: number): string {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (match) inodes.add(match[1]!);
    } catch {
      // Closed meanwhile.
    }
  }
  const counts = new Map<string, number>();
  for (const table of ['tcp', 'tcp6']) {
    let text: string;
    try {
      text = readFileSync(`/proc/${pid}/net/${table}`, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length < 10 || !inodes.has(fields[9]!)) continue;
      const state = TCP_STATES[fields[3]!] ?? fields[3]!;
      counts.set(state, (counts.get(state) ?? 0) + 1);
    }
  }
  return [...counts].map(([state, n]) => `${state} ${n}`).join(', ');
}
