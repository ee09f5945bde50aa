/** What nginx is told about its deployment. */
export interface ProxyRenderOptions {
  /**
   * The name nginx holds a Let's Encrypt certificate for: the origin name CloudFront connects to over HTTPS. Without
   * it (a trial), nginx serves CloudFront on plain HTTP only.
   */
  readonly domain?: string;
  /** Where plain HTTP is redirected (only with `domain`): the public API name, served by CloudFront. */
  readonly publicHost?: string;
  /** Let's Encrypt account e-mail (only with `domain`). @default none: certbot registers without e-mail */
  readonly letsEncryptEmail?: string;
  /** Name the tasks are found by, e.g. 'api.earshot-1a2b3c.earshot.local' (Cloud Map) or any name (ECS API). */
  readonly upstreamHost: string;
  /** The tasks' port, e.g. 8080. */
  readonly upstreamPort: number;
  /** DNS resolver, '169.254.169.253' in a VPC. */
  readonly resolver: string;
}

/** Where nginx puts things on the instance; tests point them into a temporary folder. */
export interface NginxRuntime {
  /** `user` directive; null leaves it out. @default 'nginx' */
  readonly runUser: string | null;
  /** @default 'auto' */
  readonly workerProcesses: 'auto' | number;
  /** @default '/run/nginx.pid' */
  readonly pidFile: string;
  /** @default '/var/log/nginx/error.log' */
  readonly errorLog: string;
  /** @default '/var/log/nginx/access.log' */
  readonly accessLog: string;
  /** Folder for nginx's temp paths; null keeps the compiled-in ones. @default null */
  readonly tempDir: string | null;
  /** The upstream blocks earshot-upstreams keeps current. @default '/etc/nginx/earshot/upstreams.conf' */
  readonly upstreamsFile: string;
  /** Listen address of the internal "service sleeping" server, usable as `listen` and as an upstream `server`
   *  (`127.0.0.1:PORT` or `unix:/path`). @default '127.0.0.1:8089' */
  readonly sleepingServer: string;
  /** Where earshot-route-key listens (`127.0.0.1:PORT`). @default '127.0.0.1:8090' */
  readonly routeKeyServer: string;
  /** @default '/etc/nginx/earshot/tls/fullchain.pem' (self-signed until certbot links the real one) */
  readonly certFile: string;
  /** @default '/etc/nginx/earshot/tls/privkey.pem' */
  readonly keyFile: string;
  /** @default '/var/lib/earshot/acme' */
  readonly acmeWebroot: string;
  /** @default null (all addresses) */
  readonly listenAddress: string | null;
  /** @default 80 */
  readonly httpPort: number;
  /** @default 443 */
  readonly httpsPort: number;
  /** Read/send timeout of the /ws player streams (the server pings players every 30 s). @default '3600s' */
  readonly streamTimeout: string;
  /**
   * Read timeout of /mcp responses. Generous: CloudFront's 60 s origin read timeout is the one that binds, and the
   * server's keepalive every 20 s beats both. Tests shorten it to stand in for CloudFront's. @default '3600s'
   */
  readonly mcpReadTimeout: string;
  /** The file that defines $earshot_origin_verified from the secret header. @default '/etc/nginx/earshot/origin-verify.conf' */
  readonly originVerifyFile: string;
  /** @default '1m' */
  readonly maxBodySize: string;
  /** How long a reload lets old workers keep their connections. Right after a reload, the tasks close the players
   *  of users that moved (earshot-upstreams tells them the new set); the others keep their sockets in the old
   *  workers until they close or this passes, then reconnect to the same task. @default '6h' */
  readonly workerShutdownTimeout: string;
}

export const productionRuntime: NginxRuntime = {
  runUser: 'nginx',
  workerProcesses: 'auto',
  pidFile: '/run/nginx.pid',
  errorLog: '/var/log/nginx/error.log',
  accessLog: '/var/log/nginx/access.log',
  tempDir: null,
  upstreamsFile: '/etc/nginx/earshot/upstreams.conf',
  sleepingServer: '127.0.0.1:8089',
  routeKeyServer: '127.0.0.1:8090',
  certFile: '/etc/nginx/earshot/tls/fullchain.pem',
  keyFile: '/etc/nginx/earshot/tls/privkey.pem',
  acmeWebroot: '/var/lib/earshot/acme',
  listenAddress: null,
  httpPort: 80,
  httpsPort: 443,
  streamTimeout: '3600s',
  mcpReadTimeout: '3600s',
  originVerifyFile: '/etc/nginx/earshot/origin-verify.conf',
  maxBodySize: '1m',
  workerShutdownTimeout: '6h',
};

const hostname =
  /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const ipv4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
const email = /^[A-Za-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}$/;
// Paths end up inside nginx directives and shell heredocs: no spaces, quotes, semicolons or braces.
const safePath = /^\/[A-Za-z0-9._/-]*$/;
const nginxTime = /^\d+(?:ms|s|m|h)$/;
const nginxSize = /^\d+[km]?$/;
const user = /^[a-z_][a-z0-9_-]{0,31}$/;

function isPort(value: number): boolean {
  return Number.isInteger(value) && value >= 1 && value <= 65_535;
}

/** Checks every option up front so a bad value fails at synth time with a message, not on the instance. */
export function validateProxyOptions(o: ProxyRenderOptions): void {
  const problems: string[] = [];
  if (o.domain !== undefined && !hostname.test(o.domain)) {
    problems.push(`domain "${o.domain}" is not a lower-case DNS name such as "earshot.example.com"`);
  }
  if (o.domain !== undefined && (o.publicHost === undefined || !hostname.test(o.publicHost))) {
    problems.push(
      `publicHost "${o.publicHost ?? ''}" must be the public API name (plain HTTP redirects there)`,
    );
  }
  if (o.letsEncryptEmail !== undefined) {
    if (o.domain === undefined)
      problems.push('letsEncryptEmail is set but domain is not: certificates need a domain');
    if (!email.test(o.letsEncryptEmail))
      problems.push(`letsEncryptEmail "${o.letsEncryptEmail}" is not an e-mail address`);
  }
  if (!hostname.test(o.upstreamHost)) {
    problems.push(`upstreamHost "${o.upstreamHost}" is not a DNS name such as "api.earshot.local"`);
  }
  if (!isPort(o.upstreamPort)) problems.push(`upstreamPort ${o.upstreamPort} is not a port (1-65535)`);
  if (!ipv4.test(o.resolver))
    problems.push(`resolver "${o.resolver}" is not an IPv4 address such as "169.254.169.253"`);
  if (problems.length > 0) throw new Error(`Invalid proxy options: ${problems.join('; ')}.`);
}

export function validateRuntime(r: NginxRuntime): void {
  const problems: string[] = [];
  const paths = {
    pidFile: r.pidFile,
    errorLog: r.errorLog,
    accessLog: r.accessLog,
    upstreamsFile: r.upstreamsFile,
    certFile: r.certFile,
    keyFile: r.keyFile,
    acmeWebroot: r.acmeWebroot,
    originVerifyFile: r.originVerifyFile,
    ...(r.tempDir === null ? {} : { tempDir: r.tempDir }),
  };
  for (const [name, value] of Object.entries(paths)) {
    if (!safePath.test(value))
      problems.push(`${name} "${value}" must be an absolute path of [A-Za-z0-9._/-]`);
  }
  const sleeping = r.sleepingServer;
  const sleepingOk = sleeping.startsWith('unix:')
    ? safePath.test(sleeping.slice('unix:'.length))
    : /^127\.0\.0\.1:\d{1,5}$/.test(sleeping) && isPort(Number(sleeping.split(':')[1]));
  if (!sleepingOk) problems.push(`sleepingServer "${sleeping}" must be "127.0.0.1:PORT" or "unix:/path"`);
  if (!/^127\.0\.0\.1:\d{1,5}$/.test(r.routeKeyServer) || !isPort(Number(r.routeKeyServer.split(':')[1]))) {
    problems.push(`routeKeyServer "${r.routeKeyServer}" must be "127.0.0.1:PORT"`);
  }
  if (r.runUser !== null && !user.test(r.runUser)) problems.push(`runUser "${r.runUser}" is not a user name`);
  if (r.workerProcesses !== 'auto' && !(Number.isInteger(r.workerProcesses) && r.workerProcesses >= 1)) {
    problems.push(`workerProcesses must be "auto" or a positive integer`);
  }
  if (r.listenAddress !== null && !ipv4.test(r.listenAddress))
    problems.push(`listenAddress "${r.listenAddress}" is not IPv4`);
  if (!isPort(r.httpPort)) problems.push(`httpPort ${r.httpPort} is not a port`);
  if (!isPort(r.httpsPort)) problems.push(`httpsPort ${r.httpsPort} is not a port`);
  if (r.httpPort === r.httpsPort) problems.push('httpPort and httpsPort must differ');
  if (!nginxTime.test(r.streamTimeout))
    problems.push(`streamTimeout "${r.streamTimeout}" is not an nginx time like "3600s"`);
  if (!nginxTime.test(r.mcpReadTimeout))
    problems.push(`mcpReadTimeout "${r.mcpReadTimeout}" is not an nginx time like "3600s"`);
  if (!nginxTime.test(r.workerShutdownTimeout)) {
    problems.push(`workerShutdownTimeout "${r.workerShutdownTimeout}" is not an nginx time like "60s"`);
  }
  if (!nginxSize.test(r.maxBodySize))
    problems.push(`maxBodySize "${r.maxBodySize}" is not an nginx size like "1m"`);
  if (problems.length > 0) throw new Error(`Invalid nginx runtime: ${problems.join('; ')}.`);
}
