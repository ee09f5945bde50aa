/**
 * Every file the proxy instance gets, with its final path, mode and content. They travel in the instance's
 * CloudFormation metadata (see constructs/proxy-config.ts): cfn-init stages them, earshot-apply installs them.
 * Values only known at deploy time (bucket name, origin secret) may be CDK tokens inside the contents.
 */
import { asset } from './assets.js';
import { ORIGIN_VERIFY_HEADER, renderNginxConfig, renderOriginVerifyConfig } from './render.js';
import { productionRuntime, type ProxyRenderOptions } from './options.js';
import { renderTemplate } from './template.js';

export interface ProxyFile {
  readonly path: string;
  /** Octal permission bits, e.g. '0755'. */
  readonly mode: string;
  readonly content: string;
}

export interface ProxyHostOptions {
  readonly nginx: ProxyRenderOptions;
  /** The private subnet: the only source the NAT forwards. */
  readonly natSourceCidr: string;
  /** The value CloudFront sends in X-Earshot-Origin-Verify. */
  readonly originSecret: string;
  /** How earshot-upstreams finds the tasks: Cloud Map DNS (`nginx.upstreamHost`) or the ECS API. */
  readonly discovery: { readonly kind: 'dns' } | { readonly kind: 'ecs'; readonly cluster: string };
  /** Where /etc/letsencrypt is backed up (with a domain). */
  readonly certBackup?: { readonly bucket: string; readonly key: string };
  /** The record the instance points at its own public address at boot (no Elastic IP). */
  readonly dns?: { readonly zoneId: string; readonly name: string };
  /** The SSM parameter holding the URL the heartbeat fetches through CloudFront, and its metric. */
  readonly heartbeat: { readonly urlParameter: string; readonly namespace: string; readonly service: string };
  readonly patch: {
    readonly timeZone: string;
    readonly day: string;
    readonly start: string;
    readonly minutes: number;
  };
  readonly region: string;
  /** For cfn-hup: the stack and the instance's logical id. */
  readonly cfn: { readonly stack: string; readonly resource: string };
  /** Packages the image lacks besides the proxy's own (the minimal image has no SSM agent). */
  readonly extraPackages?: readonly string[];
}

/** The files of the two cfn-init steps: the NAT first (tasks pull their image through it), then the proxy. */
export interface ProxyFileSets {
  readonly nat: readonly ProxyFile[];
  readonly proxy: readonly ProxyFile[];
  /** What earshot-packages installs before the proxy files are applied. */
  readonly packages: readonly string[];
}

/** curl's header file for the tasks' route-ring route (earshot-upstreams); root-only, it holds the secret. */
export const PROXY_SECRET_HEADER_FILE = '/etc/earshot/proxy-secret.header';

const safeValue = /^[A-Za-z0-9._:/@=+, -]*$/;

/** `/etc/earshot/earshot.env`: one KEY="value" a line, read by systemd (EnvironmentFile) and by bash alike. */
export function renderEnvFile(h: ProxyHostOptions): string {
  const r = productionRuntime;
  const values: Record<string, string | number | undefined> = {
    AWS_REGION: h.region,
    EARSHOT_NAT_SOURCE_CIDR: h.natSourceCidr,
    EARSHOT_UPSTREAM_HOST: h.nginx.upstreamHost,
    EARSHOT_UPSTREAM_PORT: h.nginx.upstreamPort,
    EARSHOT_UPSTREAMS_FILE: r.upstreamsFile,
    EARSHOT_SLEEPING_SERVER: r.sleepingServer,
    EARSHOT_RESOLVER: h.nginx.resolver,
    EARSHOT_RESOLVE_CMD:
      h.discovery.kind === 'ecs'
        ? `/usr/local/sbin/earshot-aws ecs-tasks --cluster ${h.discovery.cluster}`
        : undefined,
    EARSHOT_TLS_CERT: r.certFile,
    EARSHOT_TLS_KEY: r.keyFile,
    EARSHOT_ACME_WEBROOT: r.acmeWebroot,
    EARSHOT_DOMAIN: h.nginx.domain,
    EARSHOT_LETSENCRYPT_EMAIL: h.nginx.letsEncryptEmail,
    EARSHOT_CERT_BUCKET: h.certBackup?.bucket,
    EARSHOT_CERT_KEY: h.certBackup?.key,
    EARSHOT_DNS_ZONE: h.dns?.zoneId,
    EARSHOT_DNS_NAME: h.dns?.name,
    EARSHOT_HEARTBEAT_PARAMETER: h.heartbeat.urlParameter,
    EARSHOT_METRIC_NAMESPACE: h.heartbeat.namespace,
    EARSHOT_METRIC_SERVICE: h.heartbeat.service,
    EARSHOT_PATCH_TZ: h.patch.timeZone,
    EARSHOT_PATCH_DAY: h.patch.day,
    EARSHOT_PATCH_START: h.patch.start,
    EARSHOT_PATCH_MINUTES: h.patch.minutes,
    EARSHOT_PROXY_SECRET_HEADER_FILE: PROXY_SECRET_HEADER_FILE,
  };
  const lines = [
    '# Rendered by infra/src/proxy/files.ts: the settings of every Earshot script and unit here.',
  ];
  for (const [key, value] of Object.entries(values)) {
    if (value === undefined) continue;
    const text = String(value);
    if (!text.includes('${Token[') && !safeValue.test(text))
      throw new Error(`${key} has unsafe characters: ${text}`);
    lines.push(`${key}="${text}"`);
  }
  return `${lines.join('\n')}\n`;
}

const script = (path: string, name: string): ProxyFile => ({ path, mode: '0755', content: asset(name) });
const unit = (name: string, values: Record<string, string> = {}): ProxyFile => ({
  path: `/etc/systemd/system/${name}`,
  mode: '0644',
  content: renderTemplate(asset(`systemd/${name}`), values),
});
const manifest = (name: string, units: readonly (readonly [string, 'now' | 'boot'])[]): ProxyFile => ({
  path: `/etc/earshot/units.d/${name}.units`,
  mode: '0644',
  content: `${units.map(([u, when]) => `${u} ${when}`).join('\n')}\n`,
});

export function proxyFiles(h: ProxyHostOptions): ProxyFileSets {
  const withDomain = h.nginx.domain !== undefined;
  const nat: ProxyFile[] = [
    script('/usr/local/sbin/earshot-apply', 'earshot-apply.sh'),
    script('/usr/local/sbin/earshot-nat', 'earshot-nat.sh'),
    { path: '/etc/earshot/earshot.env', mode: '0644', content: renderEnvFile(h) },
    unit('earshot-nat.service'),
    manifest('nat', [['earshot-nat.service', 'now']]),
  ];

  const hook = [
    '[earshot-apply]',
    'triggers=post.update',
    `path=Resources.${h.cfn.resource}.Metadata.AWS::CloudFormation::Init`,
    `action=/opt/aws/bin/cfn-init -v --stack ${h.cfn.stack} --resource ${h.cfn.resource} --region ${h.region} --configsets update`,
    'runas=root',
    '',
  ].join('\n');
  type When = 'now' | 'boot';
  const units: [string, When][] = [];
  if (h.dns) units.push(['earshot-dns.service', 'now']);
  if (withDomain) units.push(['earshot-cert-restore.service', 'now']);
  units.push(
    ['earshot-route-key.service', 'now'],
    ['nginx.service', 'now'],
    ['earshot-upstreams.timer', 'now'],
    ['earshot-cfn-hup.timer', 'now'],
    ['earshot-heartbeat.timer', 'now'],
  );
  if (withDomain) units.push(['earshot-cert.timer', 'now'], ['certbot-renew.timer', 'now']);
  // Only at boot: the patch window is a boot of its own (schedule.patch).
  units.push(['earshot-patch.service', 'boot']);
  const proxy: ProxyFile[] = [
    script('/usr/local/sbin/earshot-packages', 'earshot-packages.sh'),
    script('/usr/local/sbin/earshot-upstreams', 'earshot-upstreams.sh'),
    script('/usr/local/sbin/earshot-route-key', 'earshot-route-key.py'),
    script('/usr/local/sbin/earshot-aws', 'earshot-aws.py'),
    script('/usr/local/sbin/earshot-health', 'earshot-health.sh'),
    script('/usr/local/sbin/earshot-patch', 'earshot-patch.sh'),
    { path: '/etc/nginx/nginx.conf', mode: '0644', content: renderNginxConfig(h.nginx) },
    {
      path: productionRuntime.originVerifyFile,
      mode: '0640',
      content: renderOriginVerifyConfig(h.originSecret),
    },
    // The tasks know the origin secret too (EARSHOT_PROXY_SECRET): after a reload, earshot-upstreams proves with it
    // that the new task list it sends them comes from the proxy.
    {
      path: PROXY_SECRET_HEADER_FILE,
      mode: '0600',
      content: `X-Earshot-Proxy-Secret: ${h.originSecret}\n`,
    },
    unit('earshot-route-key.service', { ROUTE_KEY_LISTEN: productionRuntime.routeKeyServer }),
    unit('earshot-upstreams.service'),
    unit('earshot-upstreams.timer'),
    unit('earshot-cfn-hup.service'),
    unit('earshot-cfn-hup.timer'),
    unit('earshot-heartbeat.service'),
    unit('earshot-heartbeat.timer'),
    unit('earshot-patch.service'),
    ...(h.dns ? [unit('earshot-dns.service')] : []),
    ...(withDomain
      ? [
          script('/usr/local/sbin/earshot-cert', 'earshot-cert.sh'),
          unit('earshot-cert-restore.service'),
          unit('earshot-cert.service'),
          unit('earshot-cert.timer'),
        ]
      : []),
    {
      path: '/etc/cfn/cfn-hup.conf',
      mode: '0400',
      content: `[main]\nstack=${h.cfn.stack}\nregion=${h.region}\nverbose=false\n`,
    },
    { path: '/etc/cfn/hooks.d/earshot.conf', mode: '0400', content: hook },
    manifest('proxy', units),
  ];
  const packages = [
    'nginx',
    'openssl',
    'tar',
    'gzip',
    'dnf-plugins-core',
    ...(withDomain ? ['certbot'] : []),
    ...(h.extraPackages ?? []),
  ];
  return { nat, proxy, packages };
}

export { ORIGIN_VERIFY_HEADER };
