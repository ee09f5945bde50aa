import { z } from 'zod';
import { crossFieldProblems, patchOverlapsActiveHours } from './config-rules.js';

/**
 * The one configuration of the AWS deployment. Parsed once (by `bin/earshot.ts` or a test) and passed down as props;
 * nothing here reads files or the environment. Defaults follow the seed architecture document (quoted line by
 * line in docs/deploy.md).
 */

export const WEEK_DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] as const;
export type WeekDay = (typeof WEEK_DAYS)[number];

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a 24-hour time "HH:MM", e.g. "08:00"');

const hostname = z
  .string()
  .regex(
    /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/,
    'must be a lower-case DNS name like "api.example.com"',
  );

const email = z.string().regex(/^[^\s@]+@[^\s@]+\.[^\s@]+$/, 'must be an e-mail address');

const arn = (service: string) =>
  z.string().regex(new RegExp(`^arn:aws[a-z-]*:${service}:`), `must be an ARN of ${service}`);

const domainSchema = z
  .object({
    /** Public name of the API (agents, `EARSHOT_URL`): an alias of the CloudFront distribution. */
    apiDomain: hostname,
    /** Host name of the console (another alias of the same distribution). Omit to use the `*.cloudfront.net` name. */
    consoleDomain: hostname.optional(),
    /**
     * Name CloudFront reaches the proxy instance by (its A record, its Let's Encrypt certificate). Only CloudFront
     * is let in on its HTTPS port.
     * @default `origin.<apiDomain>`
     */
    originDomain: hostname.optional(),
    /** Route 53 hosted zone that owns the names: records are created in it. Omit to manage DNS yourself. */
    hostedZoneId: z
      .string()
      .regex(/^Z[A-Z0-9]{4,31}$/, 'must be a Route 53 hosted zone id like "Z0123456789ABC"')
      .optional(),
    hostedZoneName: hostname.optional(),
    /** ACM certificate in us-east-1 covering apiDomain (and consoleDomain). Without it one is made and validated in the zone. */
    certificateArn: arn('acm').optional(),
    /** The earlier name of `certificateArn` (it covered the console only); still accepted. */
    consoleCertificateArn: arn('acm').optional(),
    /** Address Let's Encrypt writes to about expiring certificates. */
    letsEncryptEmail: email.optional(),
  })
  .strict()
  .superRefine((d, ctx) => {
    if ((d.hostedZoneId === undefined) !== (d.hostedZoneName === undefined)) {
      ctx.addIssue({
        code: 'custom',
        message: 'hostedZoneId and hostedZoneName go together: give both or neither',
      });
    }
    const names = [d.apiDomain, d.consoleDomain, d.originDomain].filter((n) => n !== undefined);
    if (new Set(names).size !== names.length) {
      ctx.addIssue({
        code: 'custom',
        message: 'apiDomain, consoleDomain and originDomain must be three different names',
      });
    }
    const zone = d.hostedZoneName;
    if (zone) {
      for (const [key, name] of Object.entries({ apiDomain: d.apiDomain, originDomain: d.originDomain })) {
        if (name !== undefined && name !== zone && !name.endsWith(`.${zone}`)) {
          ctx.addIssue({
            code: 'custom',
            path: [key],
            message: `${name} is not inside the hosted zone ${zone}`,
          });
        }
      }
    }
    if (d.certificateArn && d.consoleCertificateArn && d.certificateArn !== d.consoleCertificateArn) {
      ctx.addIssue({
        code: 'custom',
        message: 'give certificateArn or its old name consoleCertificateArn, not both',
      });
    }
  })
  .transform(({ consoleCertificateArn, ...d }) => ({
    ...d,
    originDomain: d.originDomain ?? `origin.${d.apiDomain}`,
    certificateArn: d.certificateArn ?? consoleCertificateArn,
  }));

const patchWindowSchema = z
  .object({
    /** Day of the weekly maintenance start (in the schedule's time zone). */
    day: z.enum(WEEK_DAYS).default('SUN'),
    /** The instance is started at this time, patched (and rebooted if needed), and stopped again... */
    start: hhmm.default('03:00'),
    /** ...this many minutes later. */
    minutes: z.number().int().min(20).max(240).default(60),
  })
  .strict();

const scheduleSchema = z
  .object({
    /** IANA time zone the hours are in. */
    timeZone: z
      .string()
      .regex(
        /^(UTC|[A-Za-z_]+(\/[A-Za-z0-9_+-]+)+)$/,
        'must be an IANA time zone like "Europe/Berlin" or "UTC"',
      )
      .default('UTC'),
    /** Tasks scale up at this time... */
    start: hhmm.default('08:00'),
    /** ...and to zero at this time (same day, after `start`). */
    end: hhmm.default('20:00'),
    /** Days the service runs. */
    days: z
      .array(z.enum(WEEK_DAYS))
      .min(1, 'needs at least one day')
      .default(['MON', 'TUE', 'WED', 'THU', 'FRI']),
    /** Minutes the proxy/NAT instance starts before the tasks (boot, nginx up, NAT ready for image pulls). */
    instanceLeadMinutes: z.number().int().min(5).max(120).default(10),
    /** Minutes the instance keeps running after the tasks scale to zero (120 s drain + margin). */
    instanceLagMinutes: z.number().int().min(5).max(120).default(15),
    /** The weekly off-hours window in which the instance moves to the newest Amazon Linux release. */
    patch: patchWindowSchema.default(() => patchWindowSchema.parse({})),
  })
  .strict()
  .superRefine((s, ctx) => {
    const [sh = 0, sm = 0] = s.start.split(':').map(Number);
    const [eh = 0, em = 0] = s.end.split(':').map(Number);
    if (eh * 60 + em <= sh * 60 + sm) {
      ctx.addIssue({
        code: 'custom',
        message: `end (${s.end}) must be after start (${s.start}) on the same day`,
      });
    }
    if (new Set(s.days).size !== s.days.length)
      ctx.addIssue({ code: 'custom', message: 'days lists a day twice' });
    const overlap = patchOverlapsActiveHours(s);
    if (overlap) ctx.addIssue({ code: 'custom', path: ['patch'], message: overlap });
  });

/** Fargate sizes the seed allows: 0.5 vCPU / 1 GB (default profile), or 0.25 vCPU / 0.5 GB (lean profile). */
export const TASK_SIZES = {
  '0.5vCPU-1GB': { cpu: 512, memoryMiB: 1024 },
  '0.25vCPU-0.5GB': { cpu: 256, memoryMiB: 512 },
} as const;
export type TaskSize = keyof typeof TASK_SIZES;

const taskSchema = z
  .object({
    /** @default the profile's: 0.5vCPU-1GB (default), 0.25vCPU-0.5GB (lean) */
    size: z.enum(Object.keys(TASK_SIZES) as [TaskSize, ...TaskSize[]]).optional(),
    /** Upper bound for horizontal scaling within active hours (8 at most with Cloud Map discovery). */
    maxTasks: z.number().int().min(1).max(10).default(2),
    /** Target average open player connections per task before another task is added. */
    targetConnectionsPerTask: z.number().int().min(1).max(1000).default(50),
    /**
     * The image to run: an immutable tag in the ECR repository (the deploy workflow passes the commit SHA) or a
     * digest `sha256:…`. Never `latest`. @default none: synth warns, the service cannot start
     */
    imageTag: z
      .string()
      .regex(
        /^(sha256:[a-f0-9]{64}|[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})$/,
        'must be a Docker tag or a digest "sha256:<64 hex>"',
      )
      .refine((tag) => tag !== 'latest', {
        message: '"latest" is mutable: deploy an immutable tag (the commit SHA) or a digest',
      })
      .optional(),
  })
  .strict();

const instanceSchema = z
  .object({
    /**
     * Withdrawn: the proxy is always on-demand. Stopping a Spot instance needs a persistent request, and a
     * persistent request launches an unmanaged replacement whenever CloudFormation terminates its instance.
     */
    spot: z
      .boolean()
      .refine((spot) => !spot, {
        message:
          'Spot is no longer offered for the proxy: AWS lets only a persistent Spot request stop and start, and a ' +
          'persistent request launches a new, unmanaged instance when CloudFormation replaces or deletes its ' +
          'instance. The proxy runs on demand (stop/start is its documented lifecycle); remove "spot".',
      })
      .optional(),
    /**
     * The image, overriding `src/ami-pins.ts`: an AL2023 arm64 image name (resolved to this region's id when it
     * changes) or an `ami-…` id of this region.
     */
    ami: z
      .string()
      .regex(
        /^(ami-[0-9a-f]{8,17}|al2023-ami-[A-Za-z0-9._-]+-arm64)$/,
        'must be "ami-…" or an "al2023-ami-…-arm64" name',
      )
      .optional(),
  })
  .strict();

const dataSchema = z
  .object({
    /** Days before stored audio (`data/audio/`) expires. */
    audioExpirationDays: z.number().int().min(1).max(3650).default(90),
  })
  .strict();

const alertsSchema = z
  .object({
    /** Monthly cost budget in USD. */
    monthlyBudgetUsd: z.number().positive().max(100_000).default(20),
    /** Receives budget and alarm notifications (confirm the SNS subscription e-mail). */
    email: email.optional(),
    /** Alarm when the average player connections per task exceed this. */
    connectionsHighThreshold: z.number().int().positive().default(200),
  })
  .strict();

const cloudFrontSchema = z
  .object({
    /** AWS WAF in front of the console (a CLOUDFRONT web ACL lives in us-east-1). */
    waf: z.boolean().default(false),
    /** An existing CLOUDFRONT-scope web ACL ARN (needed when `waf` is on and the stack is not in us-east-1). */
    webAclArn: arn('wafv2').optional(),
    /** Require CloudFront signed URLs/cookies for the console. */
    signedUrls: z.boolean().default(false),
    /** PEM public key of the key pair that signs URLs (required with `signedUrls`). */
    signedUrlsPublicKeyPem: z
      .string()
      .includes('BEGIN PUBLIC KEY', { message: 'must be a PEM public key' })
      .optional(),
    /** Bump to make a new secret CloudFront sends the proxy (X-Earshot-Origin-Verify). */
    originSecretVersion: z.number().int().min(1).default(1),
  })
  .strict();

const githubSchema = z
  .object({
    /** `owner/repo` allowed to assume the deploy role through GitHub OIDC. */
    repository: z.string().regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, 'must be "owner/repo"'),
    /** Git ref allowed to deploy. */
    ref: z.string().default('refs/heads/main'),
    /** Create the account's GitHub OIDC provider (only one may exist per account); else give its ARN. */
    oidcProviderArn: arn('iam').optional(),
  })
  .strict();

export const PROFILES = ['default', 'lean'] as const;
export type ProfileName = (typeof PROFILES)[number];

export const earshotConfigSchema = z
  .object({
    /** Name of the service stack; the foundation stack is `<name>-foundation`. Unique per account and region. */
    stackName: z
      .string()
      .regex(/^[A-Za-z][A-Za-z0-9-]{0,40}$/, 'must start with a letter; letters, digits and dashes')
      .default('Earshot'),
    /** `default`: the seed's system as written. `lean`: the same system for under $7/month (docs/deploy.md). */
    profile: z.enum(PROFILES).default('default'),
    /**
     * Deploy without a domain: everything on the `*.cloudfront.net` name, CloudFront → proxy over plain HTTP. For
     * trying Earshot only (synth and deploy warn); production needs `domain`. Ignored when a domain is set.
     */
    trial: z.boolean().default(false),
    region: z
      .string()
      .regex(/^[a-z]{2}(-gov)?-[a-z]+-\d$/, 'must be an AWS region like "eu-central-1"')
      .default('us-east-1'),
    domain: domainSchema.optional(),
    schedule: scheduleSchema.default(() => scheduleSchema.parse({})),
    task: taskSchema.default(() => taskSchema.parse({})),
    instance: instanceSchema.default(() => instanceSchema.parse({})),
    data: dataSchema.default(() => dataSchema.parse({})),
    alerts: alertsSchema.default(() => alertsSchema.parse({})),
    cloudFront: cloudFrontSchema.default(() => cloudFrontSchema.parse({})),
    github: githubSchema.optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    for (const problem of crossFieldProblems(c)) ctx.addIssue({ code: 'custom', ...problem });
  });

export type EarshotConfigInput = z.input<typeof earshotConfigSchema>;
export type EarshotConfig = z.output<typeof earshotConfigSchema>;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Validates raw configuration (from a JSON file or CDK context) and fills in defaults; throws a readable ConfigError. */
export function parseConfig(raw: unknown, source = 'configuration'): EarshotConfig {
  const result = earshotConfigSchema.safeParse(raw ?? {});
  if (result.success) return result.data;
  const lines = result.error.issues.map(
    (i) => `  - ${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`,
  );
  throw new ConfigError(`Invalid Earshot deployment ${source}:\n${lines.join('\n')}`);
}

/** Recursively merges plain objects (arrays and scalars from `over` replace). Used to layer context over a file. */
export function mergeConfig(base: unknown, over: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(over)) return over === undefined ? base : over;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = mergeConfig(base[k], v);
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The task size in effect: the configured one, else the profile's. */
export function taskSizeOf(config: EarshotConfig): TaskSize {
  return config.task.size ?? (config.profile === 'lean' ? '0.25vCPU-0.5GB' : '0.5vCPU-1GB');
}

export function taskResources(config: EarshotConfig): { cpu: number; memoryMiB: number } {
  return TASK_SIZES[taskSizeOf(config)];
}
