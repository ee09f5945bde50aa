/**
 * Renders the proxy instance's nginx configuration from the templates in `infra/proxy/`. The CDK app puts the
 * result into the instance's metadata (files.ts); the tests run the same output with a real nginx.
 */
import { asset } from './assets.js';
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
export { proxyAssetsDir } from './assets.js';

/** The header CloudFront adds to every request it sends the proxy, with the stack's origin secret as value. */
export const ORIGIN_VERIFY_HEADER = 'X-Earshot-Origin-Verify';

const ORIGIN_CHECK = 'if ($earshot_origin_verified = 0) {\n    return 403;\n}';

/** The whole `/etc/nginx/nginx.conf`. `runtime` overrides the production paths and ports (tests). */
export function renderNginxConfig(o: ProxyRenderOptions, runtime: Partial<NginxRuntime> = {}): string {
  validateProxyOptions(o);
  const r: NginxRuntime = { ...productionRuntime, ...runtime };
  validateRuntime(r);

  const shared = { MAX_BODY_SIZE: r.maxBodySize, STREAM_TIMEOUT: r.streamTimeout };
  const serverBody = renderTemplate(asset('server-body.conf.template'), {
    ...shared,
    MCP_READ_TIMEOUT: r.mcpReadTimeout,
    ORIGIN_CHECK,
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
      ORIGIN_VERIFY_FILE: r.originVerifyFile,
      SLEEPING_LISTEN: r.sleepingServer,
      ROUTE_KEY_SERVER: r.routeKeyServer,
      LISTEN_PREFIX: r.listenAddress === null ? '' : `${r.listenAddress}:`,
      HTTP_PORT: String(r.httpPort),
      HTTPS_PORT: String(r.httpsPort),
      DOMAIN: o.domain ?? '',
      PUBLIC_HOST: o.publicHost ?? '',
      ACME_WEBROOT: r.acmeWebroot,
      TLS_SETTINGS: tls,
      SERVER_BODY: serverBody,
    },
    { RUN_USER: r.runUser !== null, TEMP_DIR: r.tempDir !== null, DOMAIN: o.domain !== undefined },
  );
}

/** A CDK token standing for a value only known at deploy time (it renders into the template as an intrinsic). */
const isToken = (value: string): boolean => value.includes('${Token[');

/**
 * The origin secret as nginx checks it: `$earshot_origin_verified` is 1 only for requests carrying it (CloudFront
 * adds it to every request it sends; the security group lets nothing but CloudFront reach the API port).
 */
export function renderOriginVerifyConfig(secret: string): string {
  if (!isToken(secret) && !/^[A-Za-z0-9]{32,128}$/.test(secret)) {
    throw new Error('the origin secret must be 32-128 letters and digits');
  }
  return [
    `# The value of ${ORIGIN_VERIFY_HEADER} that CloudFront sends (the stack's origin secret). Rendered by`,
    '# infra/src/proxy/render.ts; earshot-apply replaces it when the secret changes.',
    'map $http_x_earshot_origin_verify $earshot_origin_verified {',
    '    default 0;',
    `    "${secret}" 1;`,
    '}',
    '',
  ].join('\n');
}
