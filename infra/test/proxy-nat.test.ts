// The NAT script in network namespaces: a "private subnet", the NAT instance and "the internet", joined by veth
// pairs, with addresses that exist only inside those namespaces. They all live inside a user, mount and network
// namespace of the test's own (unshare --map-root-user), so no root is needed and nothing is left on the host.
// This machine has no iptables binary, so the iptables calls go to a recorder; routing, forwarding and the
// interface choice are real.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { proxyAssetsDir } from '../src/proxy/render.js';

const run = promisify(execFile);
// ip, sysctl and the script's tools live in sbin, which a plain user's PATH may not have.
const PATH = [process.env.PATH, '/usr/sbin', '/sbin'].filter(Boolean).join(':');
const env = { ...process.env, PATH };
const natScript = fileURLToPath(new URL('earshot-nat.sh', proxyAssetsDir));
const ns = { task: 'es-task', nat: 'es-nat', net: 'es-net' };
let dir: string;
/** Holds the test's namespaces open; every command enters them through nsenter. */
let holder: ChildProcess | undefined;
let listener: ChildProcess | undefined;

/** The command line that runs `command` inside the test's namespaces. */
function inside(...command: string[]): [string, string[]] {
  const target = String(holder!.pid);
  return ['nsenter', ['-t', target, '-U', '-m', '-n', '--preserve-credentials', ...command]];
}

async function sh(script: string): Promise<{ stdout: string; stderr: string }> {
  return run(...inside('bash', '-euo', 'pipefail', '-c', script), { env });
}

/** Resolves with everything a child printed once `pattern` shows up on its stdout; rejects if it exits first. */
async function printed(child: ChildProcess, pattern: RegExp): Promise<string> {
  let out = '';
  const exited = once(child, 'exit').then(([code]) => {
    throw new Error(`exited (${String(code)}) before printing ${pattern}: ${out}`);
  });
  const seen = new Promise<string>((resolve) =>
    child.stdout!.on('data', (data: Buffer) => {
      out += data.toString();
      if (pattern.test(out)) resolve(out);
    }),
  );
  child.stderr?.on('data', (data: Buffer) => (out += data.toString()));
  return Promise.race([seen, exited]);
}

/** Whether a TCP connection from `from` reaches the "internet" namespace's listener within `seconds`. */
async function reachesInternet(from: string, seconds: number): Promise<boolean> {
  const probe = `exec 3<>/dev/tcp/10.99.2.2/8000 && head -c 2 <&3`;
  const [command, args] = inside('ip', 'netns', 'exec', from, 'bash', '-c', probe);
  const result = await run('timeout', [String(seconds), command, ...args], { env }).catch(() => ({
    stdout: '',
  }));
  return result.stdout === 'ok';
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'earshot-nat-'));
  // A private /run gives `ip netns` a place for its namespace files without touching the host's.
  const setup = 'mount -t tmpfs tmpfs /run && mkdir /run/netns && echo ready && exec sleep infinity';
  holder = spawn(
    'unshare',
    ['--user', '--map-root-user', '--mount', '--net', '--propagation', 'private', 'bash', '-euc', setup],
    { env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  await printed(holder, /ready/);
  await sh(`
    for n in ${ns.task} ${ns.nat} ${ns.net}; do ip netns add "$n"; ip -n "$n" link set lo up; done
    # task (10.99.1.2) <-> NAT instance (10.99.1.1 | 10.99.2.1) <-> internet (10.99.2.2)
    ip link add est netns ${ns.task} type veth peer name esi netns ${ns.nat}
    ip link add eso netns ${ns.nat} type veth peer name esw netns ${ns.net}
    ip -n ${ns.task} addr add 10.99.1.2/24 dev est; ip -n ${ns.task} link set est up
    ip -n ${ns.nat} addr add 10.99.1.1/24 dev esi; ip -n ${ns.nat} link set esi up
    ip -n ${ns.nat} addr add 10.99.2.1/24 dev eso; ip -n ${ns.nat} link set eso up
    ip -n ${ns.net} addr add 10.99.2.2/24 dev esw; ip -n ${ns.net} link set esw up
    ip -n ${ns.task} route add default via 10.99.1.1
    ip -n ${ns.nat} route add default via 10.99.2.2
    # Without iptables here, the "internet" routes replies back itself (what MASQUERADE does on the instance).
    ip -n ${ns.net} route add 10.99.1.0/24 via 10.99.2.1
  `);
  // A listener in the "internet" namespace that greets every connection.
  await writeFile(
    join(dir, 'listen.mjs'),
    "import net from 'node:net';\n" +
      "net.createServer((s) => s.end('ok')).listen(8000, '10.99.2.2', () => console.log('listening'));\n",
  );
  listener = spawn(...inside('ip', 'netns', 'exec', ns.net, process.execPath, join(dir, 'listen.mjs')), {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  await printed(listener, /listening/);
  // Recorders standing in for the iptables binaries.
  await writeFile(join(dir, 'iptables'), `#!/bin/sh\necho "iptables $*" >> '${join(dir, 'calls')}'\n`, {
    mode: 0o755,
  });
}, 20_000);

afterAll(async () => {
  // The namespaces go with the last process in them.
  listener?.kill();
  holder?.kill();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('earshot-nat in network namespaces', () => {
  it('turns on forwarding so the private namespace reaches the outside, masquerading on the default-route interface', async () => {
    // A fresh namespace does not forward: the task is cut off until the script runs.
    expect(await sh(`ip netns exec ${ns.nat} sysctl -n net.ipv4.ip_forward`)).toMatchObject({
      stdout: '0\n',
    });
    expect(await reachesInternet(ns.task, 1)).toBe(false);

    const { stderr } = await run(...inside('ip', 'netns', 'exec', ns.nat, 'bash', natScript), {
      env: {
        PATH: `${dir}:${PATH}`,
        EARSHOT_NAT_SOURCE_CIDR: '10.99.1.0/24',
        EARSHOT_SYSCTL_FILE: join(dir, '90-earshot-nat.conf'),
        EARSHOT_IPTABLES_SAVE: 'none',
      },
    });
    expect(stderr).toContain('forwarding 10.99.1.0/24 out of eso with MASQUERADE');
    expect(await sh(`ip netns exec ${ns.nat} sysctl -n net.ipv4.ip_forward`)).toMatchObject({
      stdout: '1\n',
    });
    expect(await readFile(join(dir, '90-earshot-nat.conf'), 'utf8')).toBe('net.ipv4.ip_forward = 1\n');
    expect(await reachesInternet(ns.task, 3)).toBe(true);

    const calls = (await readFile(join(dir, 'calls'), 'utf8')).trim().split('\n');
    expect(calls).toEqual([
      'iptables -P INPUT ACCEPT',
      'iptables -F INPUT',
      'iptables -P FORWARD DROP',
      'iptables -F FORWARD',
      'iptables -A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
      'iptables -A FORWARD -o eso -s 10.99.1.0/24 -j ACCEPT',
      'iptables -t nat -F POSTROUTING',
      'iptables -t nat -A POSTROUTING -o eso -s 10.99.1.0/24 -j MASQUERADE',
    ]);
  });

  it('refuses to guess when there is no default route', async () => {
    // The holder's own network namespace has only loopback: no default route.
    expect((await sh('ip -4 route show default')).stdout).toBe('');
    const failed = await run(...inside('bash', natScript), {
      env: {
        PATH: `${dir}:${PATH}`,
        EARSHOT_SYSCTL_FILE: 'none',
        EARSHOT_IPTABLES_SAVE: 'none',
      },
    }).catch((error: unknown) => error as { code: number; stderr: string });
    expect(failed).toMatchObject({ code: 1 });
    expect((failed as { stderr: string }).stderr).toContain('no default route');
  });
});
