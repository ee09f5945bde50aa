// The NAT script in network namespaces: a "private subnet", the NAT instance and "the internet", joined by veth
// pairs, with addresses that exist only inside those namespaces. They all live inside a user, mount and network
// namespace of the test's own (unshare --map-root-user), so no root is needed and nothing is left on the host.
// Everything is real: Debian's iptables (nf_tables), forwarding, MASQUERADE. "The internet" has no route back to
// the private subnet, so an answer reaches the task only if the NAT rewrote the source address.
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
const ns = { task: 'es-task', stray: 'es-stray', nat: 'es-nat', net: 'es-net' };
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

/**
 * What a TCP connection from namespace `from` to the "internet" listener gets back within `seconds`: the listener
 * answers with the source address it saw, or '' if nothing came back.
 */
async function fromInternet(from: string, seconds: number): Promise<string> {
  const probe = `exec 3<>/dev/tcp/10.99.2.2/8000 && head -c 64 <&3`;
  const [command, args] = inside('ip', 'netns', 'exec', from, 'bash', '-c', probe);
  const result = await run('timeout', [String(seconds), command, ...args], { env }).catch(() => ({
    stdout: '',
  }));
  return result.stdout;
}

async function runNat(extra: Record<string, string>, where: string[] = ['ip', 'netns', 'exec', ns.nat]) {
  return run(...inside(...where, 'bash', natScript), {
    env: { PATH, EARSHOT_SYSCTL_FILE: join(dir, '90-earshot-nat.conf'), ...extra },
  });
}

const sysctl = async (name: string) => (await sh(`ip netns exec ${ns.nat} sysctl -n ${name}`)).stdout.trim();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'earshot-nat-'));
  // A private /run gives `ip netns` (and iptables' lock) a place for their files without touching the host's.
  const setup = 'mount -t tmpfs tmpfs /run && mkdir /run/netns && echo ready && exec sleep infinity';
  holder = spawn(
    'unshare',
    ['--user', '--map-root-user', '--mount', '--net', '--propagation', 'private', 'bash', '-euc', setup],
    { env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  await printed(holder, /ready/);
  await sh(`
    for n in ${ns.task} ${ns.stray} ${ns.nat} ${ns.net}; do ip netns add "$n"; ip -n "$n" link set lo up; done
    # task (10.99.1.2) and stray (10.99.3.2) <-> NAT instance (10.99.1.1, 10.99.3.1 | 10.99.2.1) <-> internet (10.99.2.2)
    ip link add est netns ${ns.task} type veth peer name esi netns ${ns.nat}
    ip link add ess netns ${ns.stray} type veth peer name esj netns ${ns.nat}
    ip link add eso netns ${ns.nat} type veth peer name esw netns ${ns.net}
    ip -n ${ns.task} addr add 10.99.1.2/24 dev est; ip -n ${ns.task} link set est up
    ip -n ${ns.stray} addr add 10.99.3.2/24 dev ess; ip -n ${ns.stray} link set ess up
    ip -n ${ns.nat} addr add 10.99.1.1/24 dev esi; ip -n ${ns.nat} link set esi up
    ip -n ${ns.nat} addr add 10.99.3.1/24 dev esj; ip -n ${ns.nat} link set esj up
    ip -n ${ns.nat} addr add 10.99.2.1/24 dev eso; ip -n ${ns.nat} link set eso up
    ip -n ${ns.net} addr add 10.99.2.2/24 dev esw; ip -n ${ns.net} link set esw up
    ip -n ${ns.task} route add default via 10.99.1.1
    ip -n ${ns.stray} route add default via 10.99.3.1
    ip -n ${ns.nat} route add default via 10.99.2.2
    # Deliberately no route from the internet back to 10.99.1.0/24 or 10.99.3.0/24.
  `);
  // A listener in the "internet" namespace that tells every connection which source address it came from.
  await writeFile(
    join(dir, 'listen.mjs'),
    "import net from 'node:net';\n" +
      "net.createServer((s) => s.end(`from ${s.remoteAddress}`)).listen(8000, '10.99.2.2', () => console.log('listening'));\n",
  );
  listener = spawn(...inside('ip', 'netns', 'exec', ns.net, process.execPath, join(dir, 'listen.mjs')), {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  await printed(listener, /listening/);
}, 20_000);

afterAll(async () => {
  // The namespaces go with the last process in them.
  listener?.kill();
  holder?.kill();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('earshot-nat in network namespaces, with real iptables', () => {
  it('masquerades the private subnet out of the default-route interface, and nothing else', async () => {
    // A fresh namespace does not forward: the task is cut off until the script runs.
    expect(await sysctl('net.ipv4.ip_forward')).toBe('0');
    expect(await fromInternet(ns.task, 1)).toBe('');

    const { stderr } = await runNat({ EARSHOT_NAT_SOURCE_CIDR: '10.99.1.0/24' });
    expect(stderr).toContain('forwarding 10.99.1.0/24 out of eso with MASQUERADE; ICMP redirects off');
    expect(await sysctl('net.ipv4.ip_forward')).toBe('1');

    // The listener saw the NAT's outside address: the source was rewritten (it has no route to 10.99.1.2).
    expect(await fromInternet(ns.task, 3)).toBe('from 10.99.2.1');
    // A subnet that is not the private subnet is not forwarded, although the instance routes for it.
    expect(await fromInternet(ns.stray, 2)).toBe('');

    const rules = (await sh(`ip netns exec ${ns.nat} iptables -S FORWARD`)).stdout;
    expect(rules.trim().split('\n')).toEqual([
      '-P FORWARD DROP',
      '-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
      '-A FORWARD -s 10.99.1.0/24 -o eso -j ACCEPT',
    ]);
    const nat = (await sh(`ip netns exec ${ns.nat} iptables -t nat -S POSTROUTING`)).stdout;
    expect(nat).toContain('-A POSTROUTING -s 10.99.1.0/24 -o eso -j MASQUERADE');
  });

  it('turns ICMP redirects off and persists every setting', async () => {
    await runNat({ EARSHOT_NAT_SOURCE_CIDR: '10.99.1.0/24' });
    for (const name of [
      'net.ipv4.conf.all.send_redirects',
      'net.ipv4.conf.default.send_redirects',
      'net.ipv4.conf.eso.send_redirects',
      'net.ipv4.conf.all.accept_redirects',
    ]) {
      expect(await sysctl(name), name).toBe('0');
    }
    expect(await readFile(join(dir, '90-earshot-nat.conf'), 'utf8')).toBe(
      [
        'net.ipv4.conf.all.send_redirects = 0',
        'net.ipv4.conf.default.send_redirects = 0',
        'net.ipv4.conf.eso.send_redirects = 0',
        'net.ipv4.conf.all.accept_redirects = 0',
        'net.ipv4.conf.default.accept_redirects = 0',
        'net.ipv4.ip_forward = 1',
        '',
      ].join('\n'),
    );
  });

  it('is idempotent: a second run (every boot) leaves exactly one set of rules', async () => {
    await runNat({ EARSHOT_NAT_SOURCE_CIDR: '10.99.1.0/24' });
    await runNat({ EARSHOT_NAT_SOURCE_CIDR: '10.99.1.0/24' });
    const all = (await sh(`ip netns exec ${ns.nat} iptables-save`)).stdout;
    expect(all.match(/-j MASQUERADE/g)).toHaveLength(1);
    expect(all.match(/-s 10\.99\.1\.0\/24 -o eso -j ACCEPT/g)).toHaveLength(1);
    expect(await fromInternet(ns.task, 3)).toBe('from 10.99.2.1');
  });

  it('refuses to run without a private subnet, with the whole internet as one, or without a default route', async () => {
    const failure = (extra: Record<string, string>, where?: string[]) =>
      runNat(extra, where).catch((error: unknown) => error as { code: number; stderr: string });
    expect(await failure({})).toMatchObject({ code: 1, stderr: expect.stringContaining('is required') });
    expect(await failure({ EARSHOT_NAT_SOURCE_CIDR: '0.0.0.0/0' })).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('must be one subnet'),
    });
    // The holder's own network namespace has only loopback: no default route.
    expect((await sh('ip -4 route show default')).stdout).toBe('');
    expect(
      await failure({ EARSHOT_NAT_SOURCE_CIDR: '10.99.1.0/24', EARSHOT_SYSCTL_FILE: 'none' }, []),
    ).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('no default route'),
    });
  });
});
