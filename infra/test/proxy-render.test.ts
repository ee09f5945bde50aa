// The renderers' contract with the CDK app: validated options, the config's shape, and user data that is valid bash.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  productionRuntime,
  proxyAssetsDir,
  proxyFiles,
  renderFilesScript,
  renderNginxConfig,
  renderProxyUserData,
  type ProxyRenderOptions,
} from '../src/proxy/render.js';
import { renderTemplate } from '../src/proxy/template.js';
import { nginxBinary } from '../src/proxy/testing/local-nginx.js';

const run = promisify(execFile);
const base: ProxyRenderOptions = {
  upstreamHost: 'api.earshot.local',
  upstreamPort: 8080,
  resolver: '169.254.169.253',
};
const withDomain: ProxyRenderOptions = {
  ...base,
  domain: 'earshot.example.com',
  letsEncryptEmail: 'ops@example.com',
};
const scripts = ['earshot-upstreams.sh', 'earshot-nat.sh', 'earshot-cert-deploy.sh'];

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

/** The files the instance gets, by path. */
function embeddedFiles(options: ProxyRenderOptions): Map<string, string> {
  return new Map(proxyFiles(options, renderNginxConfig(options)).map((file) => [file.path, file.content]));
}

/** Runs the user data's own bundle-extraction line (base64 -d | gunzip | bash) with the files landing under `root`. */
async function extractBundle(userData: string, root: string): Promise<void> {
  const bundle =
    /^base64 -d <<'EARSHOT_BUNDLE_EOF' \| gunzip \| bash -euo pipefail\n[\s\S]*?\nEARSHOT_BUNDLE_EOF$/m.exec(
      userData,
    );
  expect(bundle, 'the bundle in the user data').not.toBeNull();
  await run('bash', ['-euo', 'pipefail', '-c', bundle![0]], { env: { ...process.env, EARSHOT_ROOT: root } });
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
    [{ consoleOrigin: 'https://d1.cloudfront.net/app' }, /consoleOrigin .* \(no path\)/],
  ])('rejects %o', (override, message) => {
    expect(() => renderNginxConfig({ ...base, ...override })).toThrow(message);
    expect(() => renderProxyUserData({ ...base, ...override })).toThrow(message);
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

  it('accepts the CDK defaults, with and without a domain and console origin', () => {
    expect(() =>
      renderNginxConfig({ ...withDomain, consoleOrigin: 'https://d111.cloudfront.net' }),
    ).not.toThrow();
    expect(() => renderProxyUserData(base)).not.toThrow();
  });
});

describe('renderNginxConfig', () => {
  it('without a domain: one server on HTTP and self-signed HTTPS, no redirect, no HSTS', () => {
    const config = renderNginxConfig(base);
    expect(config).toMatch(/listen 80 default_server;\n\s+listen 443 ssl default_server;/);
    expect(config).not.toContain('return 301');
    expect(config).not.toContain('Strict-Transport-Security "');
    expect(config).toContain(`ssl_certificate ${productionRuntime.certFile};`);
  });

  it('with a domain: redirect except ACME, HSTS, and the production paths', () => {
    const config = renderNginxConfig(withDomain);
    expect(config).toContain('return 301 https://earshot.example.com$request_uri;');
    expect(config).toContain(
      'location ^~ /.well-known/acme-challenge/ {\n            root /var/lib/earshot/acme;',
    );
    expect(config).toContain(
      'add_header Strict-Transport-Security "max-age=31536000; includeSubDomains" always;',
    );
    expect(config).toContain('server_name earshot.example.com;');
    for (const line of [
      'user nginx;',
      'pid /run/nginx.pid;',
      'server_tokens off;',
      'client_max_body_size 1m;',
      'resolver 169.254.169.253 valid=30s ipv6=off;',
      'include /etc/nginx/earshot/upstreams.conf;',
      'listen 127.0.0.1:8089;',
      'ssl_protocols TLSv1.2 TLSv1.3;',
      'worker_shutdown_timeout 60s;',
    ]) {
      expect(config).toContain(line);
    }
    expect(config).not.toMatch(/\{\{|#@/);
  });
});

describe('renderProxyUserData', () => {
  const variants = [
    ['without a domain', base],
    ['with a domain', withDomain],
    // The longest names a deployment could plausibly use still fit.
    [
      'with long names',
      {
        ...withDomain,
        domain: `${'a'.repeat(60)}.${'b'.repeat(60)}.example.com`,
        upstreamHost: `${'c'.repeat(60)}.earshot.local`,
      },
    ],
  ] as const;

  it.each(variants)('%s: fits in the 16 KB EC2 user-data limit', (_name, options) => {
    expect(Buffer.byteLength(renderProxyUserData(options))).toBeLessThan(16 * 1024 - 512);
  });

  it.each(variants)('%s: passes shellcheck, and so does every script it writes', async (_name, options) => {
    const userData = renderProxyUserData(options);
    await shellcheck('user-data.sh', userData);
    const files = proxyFiles(options, renderNginxConfig(options));
    await shellcheck('files.sh', renderFilesScript(files));
    for (const file of files) {
      if (file.content.startsWith('#!/usr/bin/env bash'))
        await shellcheck(file.path.split('/').pop()!, file.content);
    }
  });

  it('sets up swap before the first dnf, retries dnf, and logs to a file', () => {
    const userData = renderProxyUserData(base);
    expect(userData.startsWith('#!/bin/bash\n')).toBe(true);
    expect(userData).toContain('set -euo pipefail');
    expect(userData).toContain('exec > >(tee -a /var/log/earshot-user-data.log) 2>&1');
    expect(userData.indexOf('swapon /swapfile')).toBeLessThan(userData.indexOf('dnf install'));
    expect(userData).toMatch(/for attempt in 1 2 3 4 5 6; do\n\s+if dnf install -y "\$@"; then return 0; fi/);
  });

  it('makes the instance a NAT with `ip route`, persisted forwarding and saved iptables rules', () => {
    const userData = renderProxyUserData(base);
    const nat = embeddedFiles(base).get('/usr/local/sbin/earshot-nat') ?? '';
    expect(nat).toContain('ip -4 route show default');
    expect(nat).not.toMatch(/\broute \|/);
    expect(nat).toContain("printf 'net.ipv4.ip_forward = 1\\n'");
    expect(nat).toContain('-j MASQUERADE');
    expect(nat).toContain('iptables-save >/etc/sysconfig/iptables');
    expect(userData).toContain('systemctl enable --now iptables');
  });

  it('carries the files in a bundle that unpacks to exactly the rendered files and modes', async () => {
    const root = await mkdtemp(join(tmpdir(), 'earshot-bundle-'));
    try {
      for (const options of [base, withDomain]) {
        await extractBundle(renderProxyUserData(options), root);
        for (const file of proxyFiles(options, renderNginxConfig(options))) {
          const written = join(root, file.path);
          const expected = file.content.endsWith('\n') ? file.content : `${file.content}\n`;
          expect(await readFile(written, 'utf8'), file.path).toBe(expected);
          expect(((await stat(written)).mode & 0o777).toString(8).padStart(4, '0'), file.path).toBe(
            file.mode,
          );
        }
      }
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it('installs the nginx config, starts discovery and the key decoder, and applies security updates', () => {
    const userData = renderProxyUserData(base);
    const files = embeddedFiles(base);
    expect(files.get('/etc/nginx/nginx.conf')).toBe(renderNginxConfig(base));
    expect(files.get('/etc/earshot/upstreams.env')).toContain('EARSHOT_UPSTREAM_HOST=api.earshot.local');
    expect(files.get('/etc/systemd/system/earshot-upstreams.timer')).toContain('OnUnitActiveSec=10s');
    expect(files.get('/etc/systemd/system/earshot-route-key.service')).toContain(
      'Environment=EARSHOT_ROUTE_KEY_LISTEN=127.0.0.1:8090',
    );
    expect(userData).toContain('systemctl enable --now earshot-route-key nginx earshot-upstreams.timer');
    // The unpacked files come after the packages (nginx's own nginx.conf must not win) and before their first use.
    expect(userData.indexOf('dnf_install iptables-services')).toBeLessThan(
      userData.indexOf('EARSHOT_BUNDLE_EOF'),
    );
    expect(userData.indexOf('EARSHOT_BUNDLE_EOF')).toBeLessThan(
      userData.indexOf('/usr/local/sbin/earshot-nat'),
    );
    expect(userData).toContain('systemctl enable --now dnf-automatic.timer');
    expect(userData).toContain('upgrade_type = security');
    expect(userData).not.toContain('certbot');
    expect([...files.keys()].some((path) => path.includes('cert'))).toBe(false);
  });

  it('with a domain: certbot with a reload hook, renewals on certbot-renew.timer, retries until DNS points here', () => {
    const userData = renderProxyUserData(withDomain);
    const files = embeddedFiles(withDomain);
    expect(userData).toContain('dnf_install certbot');
    expect(files.get('/etc/systemd/system/earshot-cert.service')).toContain(
      '/usr/bin/certbot certonly --webroot -w /var/lib/earshot/acme -d earshot.example.com --non-interactive ' +
        '--agree-tos -m ops@example.com --no-eff-email --deploy-hook /usr/local/sbin/earshot-cert-deploy',
    );
    expect(files.get('/usr/local/sbin/earshot-cert-deploy')).toContain('systemctl reload nginx');
    expect(userData).toContain('systemctl enable --now earshot-cert.timer certbot-renew.timer');
    const noEmail = embeddedFiles({ ...withDomain, letsEncryptEmail: undefined });
    expect(noEmail.get('/etc/systemd/system/earshot-cert.service')).toContain(
      '--register-unsafely-without-email',
    );
  });

  it('embeds an nginx config that real nginx accepts once its production paths exist', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'earshot-embedded-'));
    try {
      await extractBundle(renderProxyUserData(withDomain), dir);
      const config = await readFile(join(dir, 'etc/nginx/nginx.conf'), 'utf8');
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
        '/CN=earshot.example.com',
        '-keyout',
        join(dir, 'privkey.pem'),
        '-out',
        join(dir, 'fullchain.pem'),
      ]);
      await writeFile(
        join(dir, 'upstreams.conf'),
        'upstream earshot_user { server 127.0.0.1:8089; }\nupstream earshot_any { server 127.0.0.1:8089; }\n',
      );
      const local = config
        .replaceAll('/etc/nginx/earshot/tls/', `${dir}/`)
        .replaceAll('/etc/nginx/earshot/upstreams.conf', join(dir, 'upstreams.conf'))
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
  it('earshot-route-key.py compiles', async () => {
    const path = fileURLToPath(new URL('earshot-route-key.py', proxyAssetsDir));
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
    const { readFile } = await import('node:fs/promises');
    await shellcheck(name, await readFile(path, 'utf8'));
  });
});
