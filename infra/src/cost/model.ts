import type { Price, RegionPrices } from './prices.js';
import type { TemplateFacts } from './template-facts.js';

/** 365.25 days / 12 months / 7 days. */
export const WEEKS_PER_MONTH = 365.25 / 12 / 7;
export const HOURS_PER_MONTH = 730;

/** What the template cannot know: how the deployment is used. */
export interface UsageAssumptions {
  readonly callsPerDay: number;
  /** Seconds of speech per call (≈ 200 characters). */
  readonly speechSecondsPerCall: number;
  /**
   * Bytes of audio the store keeps per second of speech: what the server really writes — the engine's output,
   * `pcm_24000` (24 kHz, 16-bit, mono; server/src/engines/elevenlabs.ts), kept as it is (saveAudio is on by default).
   */
  readonly storedAudioBytesPerSecond: number;
  /** JSON log bytes per speak (request, engine, store lines). */
  readonly logKbPerCall: number;
  /** EMF log bytes per task per minute (one metrics line a minute). */
  readonly emfKbPerTaskMinute: number;
  /** Custom metrics the server publishes through EMF (PlayerConnections, SpeechRequests, SpeechErrors). */
  readonly emfMetrics: number;
  /** Tasks running on average during active hours (1–2 concurrent players fit in one). */
  readonly averageTasks: number;
  /** S3 requests per speak: the audio upload, and a download or replay now and then. */
  readonly storePutsPerCall: number;
  readonly storeGetsPerCall: number;
  /**
   * DynamoDB write request units per speak: the budget reservation and its settlement (1 each), the history item
   * (~1 KB: 1, and 1 more for its copy in the byTime index), the audio byte count (1), the cache pointer (1).
   */
  readonly tableWritesPerCall: number;
  /**
   * Strongly consistent read units per speak (1 per item up to 4 KB): settings, the cache lookup (pointer and item),
   * the audio quota, and a share of the console's history pages and usage views.
   */
  readonly tableReadsPerCall: number;
  /** Table bytes per history item: the item (~1 KB with its text) and its index copy (projection ALL). */
  readonly tableKbPerCall: number;
  /** Internet egress of the instance itself (NAT: requests to ElevenLabs; CloudFront's fetches from it are free). */
  readonly dataTransferOutGb: number;
  /** Players listening to each speech (its audio goes out through CloudFront once per player). */
  readonly playersPerCall: number;
  /** HTTP requests and WebSocket connections through CloudFront per call (MCP, player, console). */
  readonly cloudFrontRequestsPerCall: number;
  /** Route 53 queries a minute for the origin name while the proxy runs (CloudFront PoPs, TTL 60 s). */
  readonly originDnsQueriesPerMinute: number;
  /** Console bytes served by CloudFront. */
  readonly consoleGb: number;
  /** Compressed size of one server image in ECR. */
  readonly imageGb: number;
  /** Apply the account-wide always-free tiers (CloudWatch, data transfer, CloudFront). */
  readonly freeTier: boolean;
}

export const DEFAULT_USAGE: UsageAssumptions = {
  callsPerDay: 100,
  speechSecondsPerCall: 13,
  storedAudioBytesPerSecond: 24_000 * 2,
  logKbPerCall: 3,
  emfKbPerTaskMinute: 0.6,
  emfMetrics: 3,
  averageTasks: 1,
  storePutsPerCall: 1,
  storeGetsPerCall: 1,
  tableWritesPerCall: 6,
  tableReadsPerCall: 6,
  tableKbPerCall: 2,
  dataTransferOutGb: 0.1,
  playersPerCall: 1,
  cloudFrontRequestsPerCall: 10,
  originDnsQueriesPerMinute: 5,
  consoleGb: 0.05,
  imageGb: 0.15,
  freeTier: true,
};

export interface CostLine {
  readonly component: string;
  readonly monthlyUsd: number;
  readonly detail: string;
  /** Did the seed document's table price this? */
  readonly inSeedTable: boolean;
}

export interface CostReport {
  readonly lines: readonly CostLine[];
  readonly totalUsd: number;
  /** What-ifs, not in the total. */
  readonly comparisons: readonly CostLine[];
  readonly activeDaysPerMonth: number;
  readonly taskHoursPerMonth: number;
  readonly instanceHoursPerMonth: number;
}

const v = (p: Price) => p.value;
const money = (n: number) => `$${n.toFixed(2)}`;

export function computeCost(facts: TemplateFacts, prices: RegionPrices, usage: UsageAssumptions): CostReport {
  if (!facts.task) throw new Error('The template has no ECS task definition: nothing to price');
  const free = (n: number) => (usage.freeTier ? n : 0);
  // No scheduled actions: the service runs around the clock (730 h, AWS's month).
  const taskWindow = facts.taskWindow ?? { minutesPerDay: 24 * 60, daysPerWeek: 7 };
  const activeDays = taskWindow.daysPerWeek * WEEKS_PER_MONTH;
  const taskHours = facts.taskWindow
    ? (taskWindow.minutesPerDay / 60) * activeDays * usage.averageTasks
    : HOURS_PER_MONTH * usage.averageTasks;
  // Active hours and the weekly patch window: every start and stop schedule counts.
  const instanceHours =
    facts.instanceMinutesPerWeek !== undefined
      ? (facts.instanceMinutesPerWeek / 60) * WEEKS_PER_MONTH
      : HOURS_PER_MONTH;
  const calls = usage.callsPerDay * activeDays;
  const lines: CostLine[] = [];
  const add = (component: string, monthlyUsd: number, detail: string, inSeedTable = false) =>
    lines.push({ component, monthlyUsd, detail, inSeedTable });

  const { vcpu, memoryGb, arch } = facts.task;
  const [pv, pg] =
    arch === 'ARM64'
      ? [prices.fargateArmVcpuHour, prices.fargateArmGbHour]
      : [prices.fargateX86VcpuHour, prices.fargateX86GbHour];
  const taskHourly = vcpu * v(pv) + memoryGb * v(pg);
  add(
    'Fargate',
    taskHours * taskHourly,
    `${vcpu} vCPU/${memoryGb} GB ${arch}, ${taskHours.toFixed(0)} task-h (${(taskWindow.minutesPerDay / 60).toFixed(1)} h x ${activeDays.toFixed(1)} d x ${usage.averageTasks})`,
    true,
  );

  let ec2 = 0;
  let ebs = 0;
  for (const inst of facts.instances) {
    const table = inst.spot ? prices.ec2SpotHour : prices.ec2Hour;
    const hourly = table[inst.type];
    if (!hourly) throw new Error(`No ${inst.spot ? 'Spot' : 'on-demand'} price for ${inst.type}`);
    ec2 += instanceHours * v(hourly);
    ebs += inst.rootGiB * v(prices.ebsGp3GbMonth);
  }
  const instanceLabel = facts.instances.map((i) => `${i.type}${i.spot ? ' Spot' : ''}`).join(', ');
  add('EC2 proxy/NAT', ec2, `${instanceLabel}, ${instanceHours.toFixed(0)} h running`, true);
  add(
    'EBS root volume',
    ebs,
    `${facts.instances.map((i) => `${i.rootGiB} GB gp3`).join(', ')}, billed while stopped too`,
  );
  const ipHours =
    facts.elasticIps * HOURS_PER_MONTH +
    (facts.elasticIps === 0 ? facts.publicIpInstances * instanceHours : 0);
  add(
    'Public IPv4',
    ipHours * v(prices.publicIpv4Hour),
    facts.elasticIps > 0
      ? `${facts.elasticIps} Elastic IP x ${HOURS_PER_MONTH} h (billed idle too)`
      : `auto-assigned address, ${ipHours.toFixed(0)} h (only while the instance runs)`,
  );

  // What the server really stores in S3 per call: the audio as the engine made it (its history record is in the
  // DynamoDB table, priced below).
  const keptMonths = (facts.audioExpirationDays ?? 365) / (365.25 / 12);
  const audioBytesPerCall = usage.speechSecondsPerCall * usage.storedAudioBytesPerSecond;
  const storeGb = (calls * audioBytesPerCall * keptMonths) / 1e9;
  const requests =
    (calls * usage.storePutsPerCall * v(prices.s3Put1k) +
      calls * usage.storeGetsPerCall * v(prices.s3Get1k)) /
    1000;
  add(
    'S3 audio',
    storeGb * v(prices.s3StandardGbMonth) + requests,
    `${storeGb.toFixed(2)} GB steady state (${(audioBytesPerCall / 1e3).toFixed(0)} KB of PCM a call, kept ${facts.audioExpirationDays ?? 'forever'} d), ${Math.round(calls * usage.storePutsPerCall)} PUT`,
  );
  for (const table of facts.tables) {
    // History expires with the audio (TTL at the same retention maximum); usage days and settings are tiny.
    const tableGb = (calls * usage.tableKbPerCall * keptMonths) / 1e6;
    const writes = calls * usage.tableWritesPerCall;
    const reads = calls * usage.tableReadsPerCall;
    if (!table.onDemand) throw new Error('Only on-demand DynamoDB tables are priced');
    const requestsUsd = (writes * v(prices.dynamoWriteMillion) + reads * v(prices.dynamoReadMillion)) / 1e6;
    add(
      'DynamoDB store',
      requestsUsd +
        Math.max(0, tableGb - free(v(prices.dynamoFreeStorageGb))) * v(prices.dynamoStorageGbMonth) +
        (table.pitr ? tableGb * v(prices.dynamoPitrGbMonth) : 0),
      `on-demand: ${Math.round(writes)} writes, ${Math.round(reads)} reads; ${(tableGb * 1000).toFixed(0)} MB` +
        `${table.pitr ? ' with point-in-time recovery' : ''}`,
    );
  }

  // Everything reaches users through CloudFront: the console, the API, and each speech's audio once per player.
  const audioOutGb = (calls * audioBytesPerCall * usage.playersPerCall) / 1e9;
  const cfGb = Math.max(0, usage.consoleGb + audioOutGb - free(v(prices.cloudFrontFreeGb)));
  const cfRequests = Math.max(
    0,
    calls * usage.cloudFrontRequestsPerCall - free(v(prices.cloudFrontFreeRequests)),
  );
  add(
    'S3 + CloudFront console',
    0.01 * v(prices.s3StandardGbMonth) +
      cfGb * v(prices.cloudFrontGb) +
      (cfRequests / 1e4) * v(prices.cloudFrontHttpsRequests10k),
    `${(usage.consoleGb + audioOutGb).toFixed(2)} GB and ${Math.round(calls * usage.cloudFrontRequestsPerCall)} requests (console, API, audio)${usage.freeTier ? ' in the free tier' : ''}`,
    true,
  );

  add(
    'ECR',
    facts.ecrRepositories * facts.ecrKeepImages * usage.imageGb * v(prices.ecrGbMonth),
    `${facts.ecrKeepImages} images x ${usage.imageGb} GB`,
    true,
  );

  const taskMinutes = taskHours * 60;
  const ingestGb = (calls * usage.logKbPerCall + taskMinutes * usage.emfKbPerTaskMinute) / 1e6;
  const retention = Math.max(1, ...facts.logRetentionDays);
  const storedGb = ingestGb * Math.min(1, retention / 30);
  const logs =
    Math.max(0, ingestGb - free(v(prices.logsFreeGb))) * v(prices.logsIngestGb) +
    storedGb * v(prices.logsStoreGbMonth);
  add(
    'CloudWatch logs',
    logs,
    `${(ingestGb * 1000).toFixed(0)} MB ingested, ${retention}-day retention`,
    true,
  );
  const metrics = usage.emfMetrics + facts.metricFilters + facts.heartbeatMetrics;
  const alarms = facts.alarms + facts.targetTrackingAlarms;
  const cw =
    Math.max(0, metrics - free(v(prices.freeMetrics))) * v(prices.customMetricMonth) +
    Math.max(0, alarms - free(v(prices.freeAlarms))) * v(prices.alarmMonth) +
    Math.max(0, facts.dashboards - free(v(prices.freeDashboards))) * v(prices.dashboardMonth);
  add(
    'CloudWatch metrics/alarms',
    cw,
    `${metrics} custom metrics, ${alarms} alarms (${facts.targetTrackingAlarms} from target tracking), ${facts.dashboards} dashboard`,
  );

  // Tasks read their two secrets when they start (about twice an active day).
  const secretReads = 2 * activeDays * 2;
  if (facts.secrets > 0) {
    add(
      'Secrets Manager',
      facts.secrets * v(prices.secretMonth) + (secretReads / 10000) * v(prices.secret10kCalls),
      `${facts.secrets} secrets`,
    );
  }
  if (facts.secureParameters > 0) {
    add(
      'SSM Parameter Store',
      facts.secureParameters * v(prices.ssmStandardParameterMonth) +
        (Math.max(0, secretReads - free(v(prices.kmsFreeRequests))) / 10000) * v(prices.kms10kRequests),
      `${facts.secureParameters} SecureString parameters (standard tier), KMS decrypts in the free tier`,
    );
  }
  add(
    'Route 53 (Cloud Map zone)',
    (facts.privateDnsNamespaces + facts.hostedZonesCreated) * v(prices.route53ZoneMonth),
    facts.privateDnsNamespaces
      ? `${facts.privateDnsNamespaces} private namespace = 1 hosted zone`
      : 'no private namespace (tasks found through the ECS API)',
  );
  // The domain's zone is the operator's, but this deployment needs it (the lean profile cannot work without one).
  // Queries: CloudFront resolving the origin name (TTL 60 s) and clients resolving the API name (alias: free).
  const originQueries = facts.hostedZonesReferenced
    ? (instanceHours * 60 * usage.originDnsQueriesPerMinute) / 1e6
    : 0;
  add(
    'Route 53 (domain zone)',
    facts.hostedZonesReferenced * v(prices.route53ZoneMonth) +
      originQueries * v(prices.route53QueriesMillion),
    facts.hostedZonesReferenced
      ? `${facts.hostedZonesReferenced} hosted zone, ~${(originQueries * 1e6).toFixed(0)} origin-name queries`
      : 'no domain (trial)',
  );
  const invocations = facts.schedules * activeDays;
  add(
    'EventBridge Scheduler',
    Math.max(0, invocations - free(v(prices.schedulerFreeInvocations))) * 1e-6,
    `${Math.round(invocations)} invocations (free tier 14M)`,
  );
  add('AWS Budgets', 0, 'notification-only budget: free');
  const egress = Math.max(0, usage.dataTransferOutGb - free(v(prices.dataTransferFreeGb)));
  add(
    'Data transfer out',
    egress * v(prices.dataTransferOutGb),
    `${usage.dataTransferOutGb} GB${usage.freeTier ? ' (100 GB free)' : ''}`,
  );
  for (const acl of facts.wafWebAcls) {
    add(
      'WAF',
      v(prices.wafWebAclMonth) +
        acl.rules * v(prices.wafRuleMonth) +
        (calls * 20 * v(prices.wafMillionRequests)) / 1e6,
      `1 web ACL, ${acl.rules} rules`,
    );
  }
  if (facts.natGateways > 0)
    add(
      'NAT Gateway',
      facts.natGateways * HOURS_PER_MONTH * v(prices.natGatewayHour),
      `${facts.natGateways} NAT Gateway`,
    );

  const totalUsd = lines.reduce((s, l) => s + l.monthlyUsd, 0);
  const x86Hourly = vcpu * v(prices.fargateX86VcpuHour) + memoryGb * v(prices.fargateX86GbHour);
  const comparisons: CostLine[] = [
    {
      component: 'Fargate on x86 instead of ARM',
      monthlyUsd: taskHours * x86Hourly,
      detail: `${money(taskHours * (x86Hourly - taskHourly))} more`,
      inSeedTable: false,
    },
    {
      component: 'Fargate 24/7 (no schedule)',
      monthlyUsd: HOURS_PER_MONTH * usage.averageTasks * taskHourly,
      detail: 'what scale-to-zero saves',
      inSeedTable: false,
    },
    {
      component: 'NAT Gateway instead of the instance',
      monthlyUsd:
        HOURS_PER_MONTH * v(prices.natGatewayHour) + usage.dataTransferOutGb * v(prices.natGatewayGb),
      detail: 'plus its own public IPv4',
      inSeedTable: false,
    },
    {
      component: 'Auto-assigned IPv4 instead of Elastic IP',
      monthlyUsd: instanceHours * v(prices.publicIpv4Hour),
      detail: 'a new address at every start: the lean profile points DNS at it at boot',
      inSeedTable: false,
    },
  ];
  return {
    lines,
    totalUsd,
    comparisons,
    activeDaysPerMonth: activeDays,
    taskHoursPerMonth: taskHours,
    instanceHoursPerMonth: instanceHours,
  };
}
