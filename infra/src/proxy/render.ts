/**
 * Renders the proxy instance's nginx config and its user data from the templates in `infra/proxy/`.
 * The CDK app calls these at synth time; the tests run the same output with a real nginx.
 */
import { asset, proxyFiles, renderFilesBundle } from './files.js';
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

export { proxyAssetsDir, proxyFiles, renderFilesScript, type ProxyFile } from './files.js';

/** The whole `/etc/nginx/nginx.conf`. `runtime` overrides the production paths and ports (tests). */
export function renderNginxConfig(o: ProxyRenderOptions, runtime: Partial<NginxRuntime> = {}): string {
  validateProxyOptions(o);
  const r: NginxRuntime = { ...productionRuntime, ...runtime };
  validateRuntime(r);

  const shared = { MAX_BODY_SIZE: r.maxBodySize, STREAM_TIMEOUT: r.streamTimeout };
  const serverBody = renderTemplate(asset('server-body.conf.template'), {
    ...shared,
    FORWARD_HEADERS: asset('forward-headers.conf.template').trimEnd(),
  }).trimEnd();
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
      WORKER_SHUTDOWN_TIMEOUT: r.workerShutdownTimeout,
      PID_FILE: r.pidFile,
      ERROR_LOG: r.errorLog,
      ACCESS_LOG: r.accessLog,
      TEMP_DIR: r.tempDir ?? '',
      RESOLVER: o.resolver,
      UPSTREAMS_FILE: r.upstreamsFile,
      SLEEPING_LISTEN: r.sleepingServer,
      ROUTE_KEY_SERVER: r.routeKeyServer,
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

/** The full bash user data of the proxy and NAT instance (Amazon Linux 2023). */
export function renderProxyUserData(o: ProxyRenderOptions): string {
  validateProxyOptions(o);
  const r = productionRuntime;
  const text = renderTemplate(
    asset('user-data.sh.template'),
    {
      FILES_BUNDLE: renderFilesBundle(proxyFiles(o, renderNginxConfig(o))),
      ACME_WEBROOT: r.acmeWebroot,
      CERT_FILE: r.certFile,
      KEY_FILE: r.keyFile,
      TLS_DIR: r.certFile.slice(0, r.certFile.lastIndexOf('/')),
      CERT_NAME: o.domain ?? 'earshot-proxy',
      DOMAIN: o.domain ?? '',
    },
    { DOMAIN: o.domain !== undefined },
  );
  return `${text.trimEnd()}\n`;
}
