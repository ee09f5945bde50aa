/**
 * Renders the proxy instance's nginx config and its user data from the templates in `infra/proxy/`.
 * The CDK app calls these at synth time; the tests run the same output with a real nginx.
 */
import { readFileSync } from 'node:fs';
import { renderTemplate } from './template.js';
import {
  productionRuntime,
  validateProxyOptions,
  validateRuntime,
  type NginxRuntime,
  type ProxyRenderOptions,
} from './options.js';

export type { NginxRuntime, ProxyRenderOptions } from './options.js';
export { productionRuntime, validateProxyOptions } from './options.js';

/** `infra/proxy/`, from both `infra/src/proxy` (tests, tsx) and `infra/dist/proxy` (compiled). */
export const proxyAssetsDir = new URL('../../proxy/', import.meta.url);

function asset(name: string): string {
  return readFileSync(new URL(name, proxyAssetsDir), 'utf8');
}

/** The whole `/etc/nginx/nginx.conf`. `runtime` overrides the production paths and ports (tests). */
export function renderNginxConfig(o: ProxyRenderOptions, runtime: Partial<NginxRuntime> = {}): string {
  validateProxyOptions(o);
  const r: NginxRuntime = { ...productionRuntime, ...runtime };
  validateRuntime(r);

  const shared = { MAX_BODY_SIZE: r.maxBodySize, STREAM_TIMEOUT: r.streamTimeout };
  const serverBody = renderTemplate(asset('server-body.conf.template'), shared).trimEnd();
  const tls = renderTemplate(asset('tls.conf.template'), {
    CERT_FILE: r.certFile,
    KEY_FILE: r.keyFile,
  }).trimEnd();
  return renderTemplate(
    asset('nginx.conf.template'),
    {
      ...shared,
      RUN_USER: r.runUser ?? '',
      WORKER_PROCESSES: String(r.workerProcesses),
      PID_FILE: r.pidFile,
      ERROR_LOG: r.errorLog,
      ACCESS_LOG: r.accessLog,
      TEMP_DIR: r.tempDir ?? '',
      RESOLVER: o.resolver,
      UPSTREAMS_FILE: r.upstreamsFile,
      SLEEPING_LISTEN: r.sleepingServer,
      LISTEN_PREFIX: r.listenAddress === null ? '' : `${r.listenAddress}:`,
      HTTP_PORT: String(r.httpPort),
      HTTPS_PORT: String(r.httpsPort),
      HTTPS_PORT_SUFFIX: r.httpsPort === 443 ? '' : `:${r.httpsPort}`,
      DOMAIN: o.domain ?? '',
      ACME_WEBROOT: r.acmeWebroot,
      CONSOLE_ORIGIN: o.consoleOrigin ?? 'none',
      TLS_SETTINGS: tls,
      SERVER_BODY: serverBody,
    },
    { RUN_USER: r.runUser !== null, TEMP_DIR: r.tempDir !== null, DOMAIN: o.domain !== undefined },
  );
}

const heredocEnd = 'EARSHOT_FILE_EOF';

/** A file's text for a quoted heredoc: comment-only lines go (user data is capped at 16 KB), shebangs stay. */
function embed(text: string): string {
  const lines = text
    .trimEnd()
    .split('\n')
    .filter((line, index) => index === 0 || !/^\s*#(?!!)/.test(line) || /shellcheck/.test(line));
  if (lines.includes(heredocEnd))
    throw new Error(`an embedded file contains the heredoc end marker ${heredocEnd}`);
  return lines.join('\n');
}

/** The environment earshot-upstreams runs with on the instance. */
export function renderUpstreamsEnv(o: ProxyRenderOptions, runtime: Partial<NginxRuntime> = {}): string {
  const r: NginxRuntime = { ...productionRuntime, ...runtime };
  return [
    `EARSHOT_UPSTREAM_HOST=${o.upstreamHost}`,
    `EARSHOT_UPSTREAM_PORT=${o.upstreamPort}`,
    `EARSHOT_UPSTREAMS_FILE=${r.upstreamsFile}`,
    `EARSHOT_SLEEPING_SERVER=${r.sleepingServer}`,
    `EARSHOT_RESOLVER=${o.resolver}`,
  ].join('\n');
}

/** The full bash user data of the proxy and NAT instance (Amazon Linux 2023). */
export function renderProxyUserData(o: ProxyRenderOptions): string {
  validateProxyOptions(o);
  const r = productionRuntime;
  const account = o.letsEncryptEmail
    ? `-m ${o.letsEncryptEmail} --no-eff-email`
    : '--register-unsafely-without-email';
  const text = renderTemplate(
    asset('user-data.sh.template'),
    {
      NAT_SCRIPT: embed(asset('earshot-nat.sh')),
      UPSTREAMS_SCRIPT: embed(asset('earshot-upstreams.sh')),
      CERT_HOOK: embed(asset('earshot-cert-deploy.sh')),
      // Indentation is for people reading the template; the 16 KB user-data cap counts every byte.
      NGINX_CONF: embed(renderNginxConfig(o).replace(/^[ \t]+/gm, '')),
      UPSTREAMS_ENV: renderUpstreamsEnv(o),
      ACME_WEBROOT: r.acmeWebroot,
      CERT_FILE: r.certFile,
      KEY_FILE: r.keyFile,
      CERT_NAME: o.domain ?? 'earshot-proxy',
      DOMAIN: o.domain ?? '',
      CERTBOT_ACCOUNT: account,
    },
    { DOMAIN: o.domain !== undefined },
  );
  return `${text.trimEnd()}\n`;
}
