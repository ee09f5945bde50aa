import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { whoUsedPort } from './ports.js';

/** What /proc says about a process: memory, CPU and open descriptors (Linux only, like the deployments). */
export interface ProcSample {
  readonly rssKiB: number;
  readonly fds: number;
  readonly sockets: number;
  /** Regular files open (paths), e.g. audio files of the store. */
  readonly files: readonly string[];
  /** Descriptors that are neither sockets nor regular files (pipes, event fds, /dev/null). */
  readonly other: number;
  /** TCP connections accepted on a port the process listens on (clients it is serving). */
  readonly inbound: number;
  /** User + system CPU time so far. */
  readonly cpuMs: number;
}

/** Clock ticks per second for /proc/PID/stat times; 100 on every Linux this runs on. */
const CLK_TCK = 100;

function fdTargets(pid: number): string[] {
  const targets: string[] = [];
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      targets.push(readlinkSync(`/proc/${pid}/fd/${fd}`));
    } catch {
      // Closed between readdir and readlink.
    }
  }
  return targets;
}

export function sampleProc(pid: number): ProcSample | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rssKiB = Number(/^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1] ?? NaN);
    const targets = fdTargets(pid);
    const sockets = targets.filter((target) => target.startsWith('socket:')).length;
    const files = targets.filter((target) => target.startsWith('/') && !target.startsWith('/dev/'));
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpuMs = ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
    const inbound = tcpRows(pid).filter((row) => row.inbound).length;
    return {
      rssKiB,
      fds: targets.length,
      sockets,
      files,
      other: targets.length - sockets - files.length,
      inbound,
      cpuMs,
    };
  } catch {
    return undefined;
  }
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

interface TcpRow {
  readonly state: string;
  readonly local: number;
  readonly remote: number;
  /** Accepted on a port the process listens on. */
  readonly inbound: boolean;
}

/** The process's TCP sockets from /proc/PID/net/tcp{,6}, matched by inode. */
function tcpRows(pid: number): TcpRow[] {
  const inodes = new Set(fdTargets(pid).flatMap((target) => /^socket:\[(\d+)\]$/.exec(target)?.[1] ?? []));
  const rows: Omit<TcpRow, 'inbound'>[] = [];
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
      const port = (address: string) => parseInt(address.split(':')[1] ?? '0', 16);
      rows.push({
        state: TCP_STATES[fields[3]!] ?? fields[3]!,
        local: port(fields[1]!),
        remote: port(fields[2]!),
      });
    }
  }
  const listening = new Set(rows.filter((row) => row.state === 'LISTEN').map((row) => row.local));
  return rows.map((row) => ({ ...row, inbound: row.state !== 'LISTEN' && listening.has(row.local) }));
}

/**
 * TCP states of the process's sockets, split into connections to it ("in") and connections it made
 * ("out→:PORT"), naming the inputs behind connections it still holds after the client left (CLOSE_WAIT).
 */
function tcpStates(pid: number): string {
  const rows = tcpRows(pid);
  const counts = new Map<string, number>();
  for (const row of rows) {
    const label =
      row.state === 'LISTEN' ? 'LISTEN' : `${row.state} ${row.inbound ? 'in' : `out→:${row.remote}`}`;
    counts.set(label, (counts.get(label) ?? 0) + 1);
  }
  const summary = [...counts].map(([label, n]) => `${label} ${n}`).join(', ');
  const abandoned = rows.filter((row) => row.state === 'CLOSE_WAIT' && row.inbound);
  const culprits = abandoned.map((row) => whoUsedPort(row.remote) ?? `client port ${row.remote}`);
  return culprits.length > 0 ? `${summary}; CLOSE_WAIT from ${culprits.join(' ; ')}` : summary;
}
