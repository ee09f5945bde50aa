// The renderers' contract with the CDK app: validated options, the config's shape, and user data that is valid bash.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { proxyFiles, type ProxyHostOptions } from '../src/proxy/files.js';
import {
  productionRuntime,
  proxyAssetsDir,
  renderNginxConfig,
  renderOriginVerifyConfig,
  type ProxyRenderOptions,
} from '../src/proxy/render.js';
import { renderTemplate } from '../src/proxy/template.js';
import { nginxBinary } from '../src/proxy/testing/local-nginx.js';
import { renderUserData } from '../src/proxy/user-data.js';

const run = promisify(execFile);
const base: ProxyRenderOptions = {
  upstreamHost: 'api.earshot.local',
  upstreamPort: 8080,
  resolver: '169.254.169.253',
};
const withDomain: ProxyRenderOptions = {
  ...base,
  domain: 'origin.api.example.com',
  publicHost: 'api.example.com',
  letsEncryptEmail: 'ops@example.com',
};
const host = (nginx: ProxyRenderOptions, more: Partial<ProxyHostOptions> = {}): ProxyHostOptions => ({
  nginx,
  natSourceCidr: '10.0.1.0/24',
  originSecret: 'S'.repeat(48),
  discovery: { kind: 'dns' },
  heartbeat: { urlParameter: '/earshot/heartbeat-url', namespace: 'Earshot/Proxy', service: 'Earshot' },
  patch: { timeZone: 'UTC', day: 'SUN', start: '03:00', minutes: 60 },
  region: 'us-east-1',
  cfn: { stack: 'Earshot', resource: 'ProxyInstance1234' },
  ...more,
});
const lean = host(withDomain, {
  discovery: { kind: 'ecs', cluster: 'Earshot' },
  dns: { zoneId: 'Z0123456789AB', name: 'origin.api.example.com' },
  certBackup: { bucket: 'earshot-data', key: 'proxy/letsencrypt.tar.gz' },
  extraPackages: ['amazon-ssm-agent'],
});
const scripts = [
  'earshot-upstreams.sh',
  'earshot-nat.sh',
  'earshot-apply.sh',
  'earshot-cert.sh',
  'earshot-health.sh',
  'earshot-packages.sh',
  'earshot-patch.sh',
];

async function shellcheck(name: string, text: string): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'earshot-shellcheck-'));
  try {
    const file = join(dir, name);
    await writeFile(file, text);
    // Every severity, including style: the scripts run as root on an instance nobody watches.
    const result = await run('/usr/bin/shellcheck', ['--shell=bash', '--severity=style', file]).catch(
      (error: unknown) => error as { stdout: string; code: number },
    );
    expect('code' in result ? result.stdout : '', `shellcheck ${name}`).toBe('');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Every file the instance gets, by path. */
function instanceFiles(h: ProxyHostOptions): Map<string, string> {
  const sets = proxyFiles(h);
  return new Map([...sets.nat, ...sets.proxy].map((file) => [file.path, file.content]));
}

describe('renderTemplate', () => {
  it('fills values and keeps or drops #@if branches, nested', () => {
    const source =
      'a {{X}}\n#@if ON\non\n  #@if OFF\nnested\n  #@else\nnested-else\n  #@endif\n#@else\noff\n#@endif\nz';
    expect(renderTemplate(source, { X: '1' }, { ON: true, OFF: false })).toBe('a 1\non\nnested-else\nz');
    expect(renderTemplate(source, { X: '1' }, { ON: false, OFF: true })).toBe('a 1\noff\nz');
  });

  it('indents a multi-line value standing alone on an indented line', () => {
    expect(renderTemplate('a {\n    {{BLOCK}}\n}', { BLOCK: 'x;\n\ny;' })).toBe('a {\n    x;\n\n    y;\n}');
  });

  it('fails loudly on a missing value, an unknown flag or an unbalanced #@if', () => {
    expect(() => renderTemplate('{{NOPE}}', {})).toThrow('no value for {{NOPE}}');
    expect(() => renderTemplate('#@if WHAT\n#@endif', {})).toThrow('unknown flag "WHAT"');
    expect(() => renderTemplate('#@if A\n', {}, { A: true })).toThrow('never closed');
    expect(() => renderTemplate('#@endif', {})).toThrow('#@endif without #@if');
  });
});

describe('option validation', () => {
  it.each([
    [{ domain: 'Earshot Example' }, /domain "Earshot Example" is not a lower-case DNS name/],
    [{ domain: 'x.com; evil' }, /domain/],
    [{ letsEncryptEmail: 'ops@example.com' }, /letsEncryptEmail is set but domain is not/],
    [{ domain: 'a.example.com', letsEncryptEmail: 'nope' }, /letsEncryptEmail "nope" is not an e-mail/],
    [{ upstreamHost: 'api earshot' }, /upstreamHost "api earshot" is not a DNS name/],
    [{ upstreamPort: 0 }, /upstreamPort 0 is not a port/],
    [{ upstreamPort: 80.5 }, /upstreamPort 80.5 is not a port/],
    [{ resolver: '169.254.169.253;' }, /resolver "169.254.169.253;" is not an IPv4 address/],
    [{ domain: 'origin.example.com' }, /publicHost "" must be the public API name/],
  ])('rejects %o', (override, message) => {
    expect(() => renderNginxConfig({ ...base, ...override })).toThrow(message);
    expect(() => proxyFiles(host({ ...base, ...override }))).toThrow();
  });

  it('rejects an origin secret that could break out of the nginx map, and a bad swap size', () => {
    expect(() => renderOriginVerifyConfig('short')).toThrow('32-128 letters and digits');
    expect(() => renderOriginVerifyConfig(`${'a'.repeat(40)}" 1; default 1; "`)).toThrow(
      'letters and digits',
    );
    expect(() => renderUserData({ stack: 'S', region: 'r', resource: 'R', swapMiB: 100 })).toThrow('swapMiB');
  });

  it('reports every problem at once', () => {
    expect(() => renderNginxConfig({ ...base, upstreamPort: -1, resolver: 'dns' })).toThrow(
      /upstreamPort.*; resolver/,
    );
  });

  it.each([
    [{ certFile: 'relative.pem' }, /certFile "relative.pem" must be an absolute path/],
    [{ accessLog: '/var/log/a b.log' }, /accessLog/],
    [{ sleepingServer: '0.0.0.0:8089' }, /sleepingServer/],
    [{ httpPort: 443 }, /httpPort and httpsPort must differ/],
    [{ streamTimeout: '1 hour' }, /streamTimeout/],
    [{ maxBodySize: '1 MB' }, /maxBodySize/],
    [{ runUser: 'root; evil' }, /runUser/],
  ])('rejects runtime %o', (runtime, message) => {
    expect(() => renderNginxConfig(base, runtime)).toThrow(message);
  });

  it('accepts the CDK defaults, with and without a domain', () => {
    expect(() => renderNginxConfig(withDomain)).not.toThrow();
    expect(() => proxyFiles(host(base))).not.toThrow();
    expect(() => proxyFiles(lean)).not.toThrow();
  });
});

describe('renderNginxConfig', () => {
  it('trial (no domain): one plain-HTTP server, no TLS, no redirect, no HSTS, origin secret checked', () => {
    const config = renderNginxConfig(base);
    expect(config).toMatch(/listen 80 default_server;/);
    expect(config).not.toContain('listen 443');
    expect(config).not.toContain('return 301');
    expect(config).not.toContain('Strict-Transport-Security "');
    expect(config).toContain('if ($earshot_origin_verified = 0) {');
  });

  it('with a domain: HTTP answers ACME and redirects the rest to the public name; the API is HTTPS only', () => {
    const config = renderNginxConfig(withDomain);
    const [http = '', https = ''] = config.split('# The API, for CloudFront only');
    expect(http).toContain('return 301 https://api.example.com$request_uri;');
    expect(http).toContain(
      'location ^~ /.well-known/acme-challenge/ {\n            root /var/lib/earshot/acme;',
    );
    // Nothing of the API on port 80: no proxy_pass before the HTTPS server.
    expect(http).not.toContain('proxy_pass');
    expect(https).toContain('listen 443 ssl default_server;');
    expect(https).toContain('server_name origin.api.example.com;');
    expect(https).toContain('if ($earshot_origin_verified = 0) {');
    expect(https).toContain(
      'add_header Strict-Transport-Security "max-age=31536000; includeSubDomains" always;',
    );
    for (const line of [
      'user nginx;',
      'pid /run/nginx.pid;',
      'server_tokens off;',
      'client_max_body_size 1m;',
      'resolver 169.254.169.253 valid=30s ipv6=off;',
      'include /etc/nginx/earshot/upstreams.conf;',
      'include /etc/nginx/earshot/origin-verify.conf;',
      'listen 127.0.0.1:8089;',
      'ssl_protocols TLSv1.2 TLSv1.3;',
      'worker_shutdown_timeout 6h;',
    ]) {
      expect(config).toContain(line);
    }
    expect(config).not.toMatch(/\{\{|#@/);
  });
});

describe('the instance: constant user data, configuration in metadata', () => {
  const userData = renderUserData({
    stack: 'Earshot',
    region: 'us-east-1',
    resource: 'ProxyInstance1234',
    swapMiB: 1024,
  });

  it('user data does not depend on the configuration (a deploy never stops or replaces the instance for it)', () => {
    // Only the stack, region, logical id and swap size: nothing of nginx, the domain, discovery or the secret.
    expect(userData).not.toMatch(/nginx\.conf|origin|api\.example|earshot\.local/);
    expect(Buffer.byteLength(userData)).toBeLessThan(16 * 1024);
  });

  it('boots NAT first, retries each step on its own and signals CloudFormation only when NAT and nginx answer', () => {
    expect(userData.startsWith('#!/bin/bash\n')).toBe(true);
    expect(userData).not.toMatch(/^set -e/m);
    const order = [
      'retry swap',
      'retry packages',
      'retry nat 5 10 cfn_init nat',
      'retry proxy 5 15 cfn_init proxy',
      'retry health 12 5 /usr/local/sbin/earshot-health',
      'signal true "NAT and nginx answer"',
    ].map((step) => userData.indexOf(step));
    expect(order.every((at) => at >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(userData).toContain('/opt/aws/bin/cfn-signal --success "$1"');
    expect(userData).toMatch(/fail\(\) \{[\s\S]*signal false/);
  });

  it.each([
    ['trial', host(base)],
    ['with a domain', host(withDomain)],
    ['lean', lean],
  ])('%s: user data and every bash script the instance gets pass shellcheck', async (_name, h) => {
    await shellcheck('user-data.sh', userData);
    const sets = proxyFiles(h);
    for (const file of [...sets.nat, ...sets.proxy]) {
      if (file.content.startsWith('#!/usr/bin/env bash'))
        await shellcheck(file.path.split('/').pop()!, file.content);
    }
  });

  it('puts the NAT in its own first step, and certificates, DNS and discovery only where configured', () => {
    const sets = proxyFiles(host(base));
    expect(sets.nat.map((f) => f.path)).toContain('/usr/local/sbin/earshot-nat');
    expect(sets.nat.find((f) => f.path === '/etc/earshot/earshot.env')?.content).toContain(
      'EARSHOT_NAT_SOURCE_CIDR="10.0.1.0/24"',
    );
    const trial = instanceFiles(host(base));
    expect([...trial.keys()].some((path) => path.includes('cert'))).toBe(false);
    expect(trial.has('/etc/systemd/system/earshot-dns.service')).toBe(false);
    const leanFiles = instanceFiles(lean);
    const env = leanFiles.get('/etc/earshot/earshot.env') ?? '';
    expect(env).toContain('EARSHOT_RESOLVE_CMD="/usr/local/sbin/earshot-aws ecs-tasks --cluster Earshot"');
    expect(env).toContain('EARSHOT_DNS_NAME="origin.api.example.com"');
    expect(env).toContain('EARSHOT_CERT_BUCKET="earshot-data"');
    expect(leanFiles.get('/etc/earshot/units.d/proxy.units')).toMatch(
      /^earshot-dns\.service now\nearshot-cert-restore\.service now\n/,
    );
    expect(leanFiles.get('/etc/earshot/units.d/proxy.units')).toContain('earshot-patch.service boot');
    expect(proxyFiles(lean).packages).toEqual(
      expect.arrayContaining(['nginx', 'certbot', 'amazon-ssm-agent']),
    );
    expect(leanFiles.get('/etc/cfn/hooks.d/earshot.conf')).toContain('--configsets update');
    expect(leanFiles.get(productionRuntime.originVerifyFile)).toContain(`"${'S'.repeat(48)}" 1;`);
  });

  it('earshot-apply installs what changed, rolls back a config nginx refuses, and restarts nothing unchanged', async () => {
    const root = await mkdtemp(join(tmpdir(), 'earshot-apply-'));
    const calls = join(root, 'systemctl.log');
    const systemctl = join(root, 'systemctl');
    await writeFile(systemctl, `#!/bin/sh\necho "$*" >>'${calls}'\n[ "$1" != is-active ]\n`, { mode: 0o755 });
    const stage = async (h: ProxyHostOptions) => {
      await rm(join(root, 'etc/earshot/staged'), { recursive: true, force: true });
      const sets = proxyFiles(h);
      for (const file of [...sets.nat, ...sets.proxy]) {
        const path = join(root, 'etc/earshot/staged', file.path);
        // Written first, then given its mode: a plain user cannot write a file already made read-only (root can).
        await run('install', ['-D', '-m', '0600', '/dev/null', path]);
        await writeFile(path, file.content);
        await run('chmod', [file.mode, path]);
      }
    };
    const apply = (nginxTest: string) =>
      run('bash', [join(root, 'etc/earshot/staged/usr/local/sbin/earshot-apply')], {
        env: {
          ...process.env,
          EARSHOT_ROOT: root,
          EARSHOT_SYSTEMCTL: systemctl,
          EARSHOT_NGINX_TEST_CMD: nginxTest,
          EARSHOT_NGINX_RELOAD_CMD: `echo reload >>'${calls}'`,
        },
      });
    const log = async () => (await readFile(calls, 'utf8').catch(() => '')).trim().split('\n');
    try {
      await stage(host(withDomain));
      await apply('true');
      expect(await readFile(join(root, 'etc/nginx/nginx.conf'), 'utf8')).toBe(renderNginxConfig(withDomain));
      expect((await stat(join(root, 'usr/local/sbin/earshot-nat'))).mode & 0o777).toBe(0o755);
      expect(await log()).toContain('reload');
      // Same metadata again (cfn-hup after an unrelated deploy): nothing restarted, nothing reloaded.
      await rm(calls, { force: true });
      await apply('true');
      expect((await log()).filter((c) => c === 'reload' || c.startsWith('try-restart'))).toEqual([]);
      // A new secret that nginx refuses: every file of the run goes back, and the run fails.
      await rm(calls, { force: true });
      await stage(host(withDomain, { originSecret: 'T'.repeat(48) }));
      await expect(apply('false')).rejects.toThrow();
      expect(await readFile(join(root, productionRuntime.originVerifyFile.slice(1)), 'utf8')).toContain(
        'S'.repeat(48),
      );
      expect(await log()).not.toContain('reload');
      await apply('true');
      expect(await readFile(join(root, productionRuntime.originVerifyFile.slice(1)), 'utf8')).toContain(
        'T'.repeat(48),
      );
      expect(await log()).toContain('reload');
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it('gives real nginx a configuration it accepts once its production paths exist', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'earshot-embedded-'));
    try {
      const files = instanceFiles(host(withDomain));
      const config = files.get('/etc/nginx/nginx.conf') ?? '';
      await run('openssl', [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=origin.api.example.com',
        '-keyout',
        join(dir, 'privkey.pem'),
        '-out',
        join(dir, 'fullchain.pem'),
      ]);
      await writeFile(
        join(dir, 'upstreams.conf'),
        'map $host $earshot_upstreams_generation { default "none"; }\n' +
          'upstream earshot_user { server 127.0.0.1:8089; }\nupstream earshot_any { server 127.0.0.1:8089; }\n',
      );
      await writeFile(join(dir, 'origin-verify.conf'), files.get(productionRuntime.originVerifyFile) ?? '');
      const local = config
        .replaceAll('/etc/nginx/earshot/tls/', `${dir}/`)
        .replaceAll('/etc/nginx/earshot/upstreams.conf', join(dir, 'upstreams.conf'))
        .replaceAll('/etc/nginx/earshot/origin-verify.conf', join(dir, 'origin-verify.conf'))
        .replaceAll('/var/log/nginx/', `${dir}/`)
        .replaceAll('/run/nginx.pid', join(dir, 'nginx.pid'))
        .replaceAll('listen 80 default_server', 'listen 127.0.0.1:18080 default_server')
        .replace(/^user nginx;$/m, '');
      await writeFile(join(dir, 'nginx.conf'), local);
      // nginx -t binds the listen ports; 443 needs root, which an unprivileged run has in a user and network
      // namespace of its own.
      const unprivileged = process.getuid?.() !== 0;
      const [command, ...args] = [
        ...(unprivileged ? ['unshare', '--user', '--map-root-user', '--net'] : []),
        nginxBinary,
        '-t',
        '-p',
        dir,
        '-e',
        join(dir, 'error.log'),
        '-c',
        join(dir, 'nginx.conf'),
      ];
      const result = await run(command, args);
      expect(result.stderr).toContain('test is successful');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('the scripts in infra/proxy', () => {
  it.each(['earshot-route-key.py', 'earshot-aws.py'])('%s compiles', async (name) => {
    const path = fileURLToPath(new URL(name, proxyAssetsDir));
    // Compiled into a temporary file: no __pycache__ next to the source.
    const dir = await mkdtemp(join(tmpdir(), 'earshot-pyc-'));
    try {
      const script =
        'import py_compile, sys; py_compile.compile(sys.argv[1], cfile=sys.argv[2], doraise=True)';
      await expect(run('python3', ['-c', script, path, join(dir, 'out.pyc')])).resolves.toBeDefined();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it.each(scripts)('%s passes shellcheck', async (name) => {
    const path = fileURLToPath(new URL(name, proxyAssetsDir));
    await shellcheck(name, await readFile(path, 'utf8'));
  });
});
