// The NAT script in network namespaces: a "private subnet", the NAT instance and "the internet", joined by veth
// pairs, with addresses that exist only inside those namespaces. Needs root (ip netns). This machine has no
// iptables binary, so the iptables calls go to a recorder; routing, forwarding and the interface choice are real.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { proxyAssetsDir } from '../src/proxy/render.js';

const run = promisify(execFile);
const natScript = fileURLToPath(new URL('earshot-nat.sh', proxyAssetsDir));
const tag = `${process.pid % 100_000}`;
const ns = { task: `es-task-${tag}`, nat: `es-nat-${tag}`, net: `es-net-${tag}` };
let dir: string;

async function sh(script: string): Promise<{ stdout: string; stderr: string }> {
  return run('bash', ['-euo', 'pipefail', '-c', script]);
}

/** Whether a TCP connection from the task namespace reaches the "internet" namespace's listener. */
async function reachesInternet(from: string, seconds: number): Promise<boolean> {
  const probe = `ip netns exec ${from} bash -c 'exec 3<>/dev/tcp/10.99.2.2/8000 && head -c 2 <&3'`;
  const result = await run('timeout', [String(seconds), 'bash', '-c', probe]).catch(() => ({ stdout: '' }));
  return result.stdout === 'ok';
}

beforeAll(async () => {
  if (process.getuid?.() !== 0)
    throw new Error('the NAT namespace test needs root (ip netns); run it with sudo');
  dir = await mkdtemp(join(tmpdir(), 'earshot-nat-'));
  await sh(`
    for n in ${ns.task} ${ns.nat} ${ns.net}; do ip netns add "$n"; ip -n "$n" link set lo up; done
    # task (10.99.1.2) <-> NAT instance (10.99.1.1 | 10.99.2.1) <-> internet (10.99.2.2)
    ip link add est${tag} netns ${ns.task} type veth peer name esi${tag} netns ${ns.nat}
    ip link add eso${tag} netns ${ns.nat} type veth peer name esw${tag} netns ${ns.net}
    ip -n ${ns.task} addr add 10.99.1.2/24 dev est${tag}; ip -n ${ns.task} link set est${tag} up
    ip -n ${ns.nat} addr add 10.99.1.1/24 dev esi${tag}; ip -n ${ns.nat} link set esi${tag} up
    ip -n ${ns.nat} addr add 10.99.2.1/24 dev eso${tag}; ip -n ${ns.nat} link set eso${tag} up
    ip -n ${ns.net} addr add 10.99.2.2/24 dev esw${tag}; ip -n ${ns.net} link set esw${tag} up
    ip -n ${ns.task} route add default via 10.99.1.1
    ip -n ${ns.nat} route add default via 10.99.2.2
    # Without iptables here, the "internet" routes replies back itself (what MASQUERADE does on the instance).
    ip -n ${ns.net} route add 10.99.1.0/24 via 10.99.2.1
  `);
  // A listener in the "internet" namespace that greets every connection.
  await writeFile(
    join(dir, 'listen.mjs'),
    "import net from 'node:net'; net.createServer((s) => s.end('ok')).listen(8000, '10.99.2.2');\n",
  );
  await sh(
    `ip netns exec ${ns.net} node ${join(dir, 'listen.mjs')} >/dev/null 2>&1 & echo $! > ${join(dir, 'listener.pid')}`,
  );
  for (let attempt = 0; attempt < 30 && !(await reachesInternet(ns.net, 1)); attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  // Recorders standing in for the iptables binaries.
  await writeFile(join(dir, 'iptables'), `#!/bin/sh\necho "iptables $*" >> '${join(dir, 'calls')}'\n`, {
    mode: 0o755,
  });
}, 20_000);

afterAll(async () => {
  const pid = await readFile(join(dir ?? '/nonexistent', 'listener.pid'), 'utf8').catch(() => '');
  if (/^\d+\s*$/.test(pid)) await run('kill', [pid.trim()]).catch(() => undefined);
  for (const name of Object.values(ns)) await run('ip', ['netns', 'del', name]).catch(() => undefined);
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('earshot-nat in network namespaces', () => {
  it('turns on forwarding so the private namespace reaches the outside, masquerading on the default-route interface', async () => {
    // A fresh namespace does not forward: the task is cut off until the script runs.
    expect(await sh(`ip netns exec ${ns.nat} sysctl -n net.ipv4.ip_forward`)).toMatchObject({
      stdout: '0\n',
    });
    expect(await reachesInternet(ns.task, 1)).toBe(false);

    const { stderr } = await run('ip', ['netns', 'exec', ns.nat, 'bash', natScript], {
      env: {
        PATH: `${dir}:${process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin'}`,
        EARSHOT_NAT_SOURCE_CIDR: '10.99.1.0/24',
        EARSHOT_SYSCTL_FILE: join(dir, '90-earshot-nat.conf'),
        EARSHOT_IPTABLES_SAVE: 'none',
      },
    });
    expect(stderr).toContain(`forwarding 10.99.1.0/24 out of eso${tag} with MASQUERADE`);
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
      `iptables -A FORWARD -o eso${tag} -s 10.99.1.0/24 -j ACCEPT`,
      'iptables -t nat -F POSTROUTING',
      `iptables -t nat -A POSTROUTING -o eso${tag} -s 10.99.1.0/24 -j MASQUERADE`,
    ]);
  });

  it('refuses to guess when there is no default route', async () => {
    await sh(`ip netns exec ${ns.task} ip route del default`);
    const failed = await run('ip', ['netns', 'exec', ns.task, 'bash', natScript], {
      env: {
        PATH: `${dir}:${process.env.PATH ?? ''}`,
        EARSHOT_SYSCTL_FILE: 'none',
        EARSHOT_IPTABLES_SAVE: 'none',
      },
    }).catch((error: unknown) => error as { code: number; stderr: string });
    expect(failed).toMatchObject({ code: 1 });
    expect((failed as { stderr: string }).stderr).toContain('no default route');
  });
});
