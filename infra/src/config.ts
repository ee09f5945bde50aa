import { z } from 'zod';

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
    /** Host name of the API (nginx on the proxy instance), e.g. `api.earshot.example.com`. */
    apiDomain: hostname,
    /** Host name of the console (CloudFront). Omit to use the `*.cloudfront.net` name. */
    consoleDomain: hostname.optional(),
    /** Route 53 hosted zone that owns the names: records are created in it. Omit to manage DNS yourself. */
    hostedZoneId: z
      .string()
      .regex(/^Z[A-Z0-9]{4,31}$/, 'must be a Route 53 hosted zone id like "Z0123456789ABC"')
      .optional(),
    hostedZoneName: hostname.optional(),
    /** ACM certificate in us-east-1 for `consoleDomain` (required when the stack is not in us-east-1). */
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
  });

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
  });

/** Fargate sizes the seed allows: 0.5 vCPU / 1 GB (default), or the smaller 0.25 vCPU / 0.5 GB. */
export const TASK_SIZES = {
  '0.5vCPU-1GB': { cpu: 512, memoryMiB: 1024 },
  '0.25vCPU-0.5GB': { cpu: 256, memoryMiB: 512 },
} as const;

const taskSchema = z
  .object({
    size: z
      .enum(Object.keys(TASK_SIZES) as [keyof typeof TASK_SIZES, ...(keyof typeof TASK_SIZES)[]])
      .default('0.5vCPU-1GB'),
    /** Upper bound for horizontal scaling within active hours. */
    maxTasks: z.number().int().min(1).max(10).default(2),
    /** Target average open player connections per task before another task is added. */
    targetConnectionsPerTask: z.number().int().min(1).max(1000).default(50),
    /** Image tag in the ECR repository. The deploy workflow passes the commit SHA. */
    imageTag: z
      .string()
      .regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/, 'must be a Docker tag')
      .default('latest'),
  })
  .strict();

const instanceSchema = z
  .object({
    /** Persistent Spot request that stops (not terminates) on interruption. */
    spot: z.boolean().default(false),
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

export const earshotConfigSchema = z
  .object({
    /** Prefix of the two stack names (`<name>-registry`, `<name>`). */
    stackName: z
      .string()
      .regex(/^[A-Za-z][A-Za-z0-9-]{0,40}$/, 'must start with a letter; letters, digits and dashes')
      .default('Earshot'),
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
    const usEast1 = c.region === 'us-east-1';
    if (c.domain?.consoleDomain && !usEast1 && !c.domain.consoleCertificateArn) {
      ctx.addIssue({
        code: 'custom',
        path: ['domain', 'consoleCertificateArn'],
        message: `CloudFront certificates must live in us-east-1; the stack is in ${c.region}: create one there and give its ARN`,
      });
    }
    if (c.domain?.consoleDomain && !c.domain.hostedZoneId && !c.domain.consoleCertificateArn) {
      ctx.addIssue({
        code: 'custom',
        path: ['domain', 'consoleCertificateArn'],
        message:
          'a console domain needs either a hosted zone (to validate a new certificate) or consoleCertificateArn',
      });
    }
    if (c.cloudFront.waf && !usEast1 && !c.cloudFront.webAclArn) {
      ctx.addIssue({
        code: 'custom',
        path: ['cloudFront', 'webAclArn'],
        message: `a CLOUDFRONT web ACL must be created in us-east-1; the stack is in ${c.region}: create it there and give webAclArn`,
      });
    }
    if (c.cloudFront.signedUrls && !c.cloudFront.signedUrlsPublicKeyPem) {
      ctx.addIssue({
        code: 'custom',
        path: ['cloudFront', 'signedUrlsPublicKeyPem'],
        message: 'signedUrls needs signedUrlsPublicKeyPem',
      });
    }
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

export function taskResources(config: EarshotConfig): { cpu: number; memoryMiB: number } {
  return TASK_SIZES[config.task.size];
}
