/** The files the proxy instance gets, and the self-extracting bundle that carries them inside the user data. */
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { renderTemplate } from './template.js';
import { productionRuntime, type ProxyRenderOptions } from './options.js';

/** `infra/proxy/`, from both `infra/src/proxy` (tests, tsx) and `infra/dist/proxy` (compiled). */
export const proxyAssetsDir = new URL('../../proxy/', import.meta.url);

export function asset(name: string): string {
  return readFileSync(new URL(name, proxyAssetsDir), 'utf8');
}

export interface ProxyFile {
  readonly path: string;
  /** Octal permission bits, e.g. '0755'. */
  readonly mode: string;
  readonly content: string;
}

/** The environment earshot-upstreams runs with on the instance. */
export function renderUpstreamsEnv(o: ProxyRenderOptions): string {
  const r = productionRuntime;
  return [
    `EARSHOT_UPSTREAM_HOST=${o.upstreamHost}`,
    `EARSHOT_UPSTREAM_PORT=${o.upstreamPort}`,
    `EARSHOT_UPSTREAMS_FILE=${r.upstreamsFile}`,
    `EARSHOT_SLEEPING_SERVER=${r.sleepingServer}`,
    `EARSHOT_RESOLVER=${o.resolver}`,
    '',
  ].join('\n');
}

/** Every file the user data installs, with its final content. `nginxConfig` is the rendered /etc/nginx/nginx.conf. */
export function proxyFiles(o: ProxyRenderOptions, nginxConfig: string): ProxyFile[] {
  const r = productionRuntime;
  const unit = (name: string, values: Record<string, string> = {}): string =>
    renderTemplate(asset(`systemd/${name}`), values);
  const files: ProxyFile[] = [
    { path: '/etc/nginx/nginx.conf', mode: '0644', content: nginxConfig },
    { path: '/usr/local/sbin/earshot-nat', mode: '0755', content: asset('earshot-nat.sh') },
    { path: '/usr/local/sbin/earshot-upstreams', mode: '0755', content: asset('earshot-upstreams.sh') },
    { path: '/usr/local/sbin/earshot-route-key', mode: '0755', content: asset('earshot-route-key.py') },
    { path: '/etc/earshot/upstreams.env', mode: '0644', content: renderUpstreamsEnv(o) },
    {
      path: '/etc/systemd/system/earshot-upstreams.service',
      mode: '0644',
      content: unit('earshot-upstreams.service'),
    },
    {
      path: '/etc/systemd/system/earshot-upstreams.timer',
      mode: '0644',
      content: unit('earshot-upstreams.timer'),
    },
    {
      path: '/etc/systemd/system/earshot-route-key.service',
      mode: '0644',
      content: unit('earshot-route-key.service', { ROUTE_KEY_LISTEN: r.routeKeyServer }),
    },
  ];
  if (o.domain !== undefined) {
    const account = o.letsEncryptEmail
      ? `-m ${o.letsEncryptEmail} --no-eff-email`
      : '--register-unsafely-without-email';
    files.push(
      { path: '/usr/local/sbin/earshot-cert-deploy', mode: '0755', content: asset('earshot-cert-deploy.sh') },
      {
        path: '/etc/systemd/system/earshot-cert.service',
        mode: '0644',
        content: unit('earshot-cert.service', {
          DOMAIN: o.domain,
          ACME_WEBROOT: r.acmeWebroot,
          CERTBOT_ACCOUNT: account,
        }),
      },
      { path: '/etc/systemd/system/earshot-cert.timer', mode: '0644', content: unit('earshot-cert.timer') },
    );
  }
  return files;
}

const heredocEnd = 'EARSHOT_FILE_EOF';

/**
 * A bash script that writes the files (under `$EARSHOT_ROOT`, empty on the instance, a folder in tests).
 * Quoted heredocs: nothing in the files is expanded.
 */
export function renderFilesScript(files: readonly ProxyFile[]): string {
  const parts = ['root="${EARSHOT_ROOT:-}"'];
  for (const file of files) {
    const body = file.content.endsWith('\n') ? file.content : `${file.content}\n`;
    if (body.split('\n').includes(heredocEnd))
      throw new Error(`${file.path} contains the line ${heredocEnd}`);
    const folder = file.path.slice(0, file.path.lastIndexOf('/'));
    parts.push(
      `install -d -m 0755 "$root${folder}"`,
      `cat >"$root${file.path}" <<'${heredocEnd}'\n${body}${heredocEnd}`,
      `chmod ${file.mode} "$root${file.path}"`,
    );
  }
  return `${parts.join('\n')}\n`;
}

/** The files script, gzip-compressed and base64-encoded in 76-character lines. */
export function renderFilesBundle(files: readonly ProxyFile[]): string {
  const encoded = gzipSync(renderFilesScript(files), { level: 9 }).toString('base64');
  return encoded.replace(/.{1,76}/g, '$&\n').trimEnd();
}
