/**
 * Reads what the bill depends on out of synthesized CloudFormation templates: nothing here knows the CDK code, so
 * the cost model prices what would actually be deployed.
 */

export interface CfnTemplate {
  readonly Resources?: Record<
    string,
    { readonly Type: string; readonly Properties?: Record<string, unknown> }
  >;
}

export interface WeeklyWindow {
  /** Minutes per active day between the "up" and "down" cron times. */
  readonly minutesPerDay: number;
  readonly daysPerWeek: number;
}

export interface TemplateFacts {
  readonly instances: readonly { readonly type: string; readonly spot: boolean; readonly rootGiB: number }[];
  readonly elasticIps: number;
  readonly publicIpInstances: number;
  readonly task:
    { readonly vcpu: number; readonly memoryGb: number; readonly arch: 'ARM64' | 'X86_64' } | undefined;
  readonly maxTasks: number;
  /** Task window from the Application Auto Scaling scheduled actions. */
  readonly taskWindow: WeeklyWindow | undefined;
  /** Instance window from the EventBridge Scheduler start/stop schedules (active hours; the patch window apart). */
  readonly instanceWindow: WeeklyWindow | undefined;
  /** Minutes a week the instance runs, from every start and stop schedule (active hours and the patch window). */
  readonly instanceMinutesPerWeek: number | undefined;
  /** Route 53 hosted zones the stack writes records into (the domain's, not created by the stack). */
  readonly hostedZonesReferenced: number;
  /** SSM SecureString parameters the stack creates (through a custom resource: CloudFormation cannot). */
  readonly secureParameters: number;
  /** Custom metrics besides the server's EMF ones: the proxy's heartbeat, when an alarm watches it. */
  readonly heartbeatMetrics: number;
  readonly alarms: number;
  /** Alarms Application Auto Scaling creates for each target-tracking policy (two each). */
  readonly targetTrackingAlarms: number;
  readonly metricFilters: number;
  readonly dashboards: number;
  readonly secrets: number;
  readonly privateDnsNamespaces: number;
  readonly hostedZonesCreated: number;
  readonly natGateways: number;
  readonly logRetentionDays: readonly number[];
  readonly ecrRepositories: number;
  readonly ecrKeepImages: number;
  readonly wafWebAcls: readonly { readonly rules: number }[];
  readonly schedules: number;
  /** Days after which objects under an `audio/` prefix expire; undefined = kept forever. */
  readonly audioExpirationDays: number | undefined;
  /** DynamoDB tables: on-demand or provisioned, and whether point-in-time recovery (billed per GB) is on. */
  readonly tables: readonly { readonly onDemand: boolean; readonly pitr: boolean }[];
}

const DAY_NAMES = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

/** Parses `cron(m h dom mon dow yr)` (Application Auto Scaling and EventBridge Scheduler share the format). */
export function parseCron(expr: string): { minuteOfDay: number; days: string[] } {
  const m = /^cron\((\S+) (\S+) (\S+) (\S+) (\S+)(?: (\S+))?\)$/.exec(expr);
  if (!m) throw new Error(`Not a cron() expression: ${expr}`);
  const [, minute, hour, , , dow] = m;
  if (!/^\d+$/.test(minute ?? '') || !/^\d+$/.test(hour ?? ''))
    throw new Error(`Only fixed minute/hour crons are priced: ${expr}`);
  let days: string[];
  if (dow === '?' || dow === '*') days = [...DAY_NAMES];
  else {
    days = [];
    for (const part of (dow ?? '').split(',')) {
      const range = /^([A-Z]{3})-([A-Z]{3})$/.exec(part);
      if (range) {
        const a = DAY_NAMES.indexOf(range[1] ?? '');
        const b = DAY_NAMES.indexOf(range[2] ?? '');
        if (a < 0 || b < 0) throw new Error(`Unknown day range ${part} in ${expr}`);
        for (let i = a; i !== (b + 1) % 7; i = (i + 1) % 7) days.push(DAY_NAMES[i] as string);
      } else if (DAY_NAMES.includes(part)) days.push(part);
      else throw new Error(`Unknown day ${part} in ${expr}`);
    }
  }
  return { minuteOfDay: Number(hour) * 60 + Number(minute), days };
}

/** The daily window between an "up" and a "down" cron (down may fall after midnight, on the next day). */
export function windowBetween(upExpr: string, downExpr: string): WeeklyWindow {
  const up = parseCron(upExpr);
  const down = parseCron(downExpr);
  let minutes = down.minuteOfDay - up.minuteOfDay;
  if (minutes <= 0) minutes += 24 * 60;
  return { minutesPerDay: minutes, daysPerWeek: up.days.length };
}

/**
 * Minutes a week between start and stop events, walking the week minute by minute: a start turns the instance on, a
 * stop off (a start while running or a stop while stopped changes nothing, as EC2 would).
 */
export function runningMinutesPerWeek(startExprs: readonly string[], stopExprs: readonly string[]): number {
  const WEEK = 7 * 24 * 60;
  const events = new Map<number, 'start' | 'stop'>();
  const mark = (expr: string, kind: 'start' | 'stop'): void => {
    const { minuteOfDay, days } = parseCron(expr);
    for (const day of days) events.set(DAY_NAMES.indexOf(day) * 24 * 60 + minuteOfDay, kind);
  };
  startExprs.forEach((e) => mark(e, 'start'));
  stopExprs.forEach((e) => mark(e, 'stop'));
  // Start from the state the last event of the week leaves behind.
  const last = [...events.keys()].sort((a, b) => a - b).at(-1);
  let running = last !== undefined && events.get(last) === 'start';
  let minutes = 0;
  for (let m = 0; m < WEEK; m++) {
    const event = events.get(m);
    if (event) running = event === 'start';
    if (running) minutes++;
  }
  return minutes;
}

function resources(t: CfnTemplate, type: string): Record<string, unknown>[] {
  return Object.values(t.Resources ?? {})
    .filter((r) => r.Type === type)
    .map((r) => r.Properties ?? {});
}

function obj(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

function schedulerAction(props: Record<string, unknown>): string {
  const target = obj(props.Target);
  return JSON.stringify(target.Arn ?? '').match(/aws-sdk:([a-z0-9]+:[A-Za-z]+)/)?.[1] ?? '';
}

export function extractFacts(templates: readonly CfnTemplate[]): TemplateFacts {
  const all = (type: string) => templates.flatMap((t) => resources(t, type));
  const launchTemplates = all('AWS::EC2::LaunchTemplate');
  const spotTemplates = launchTemplates.filter(
    (lt) => obj(obj(lt.LaunchTemplateData).InstanceMarketOptions).MarketType === 'spot',
  ).length;

  const instances = all('AWS::EC2::Instance').map((i) => {
    const root = arr(i.BlockDeviceMappings).map(obj)[0];
    const rootGiB = Number(obj(root?.Ebs).VolumeSize ?? 8);
    return { type: String(i.InstanceType), spot: spotTemplates > 0, rootGiB };
  });
  const publicIpInstances = all('AWS::EC2::Instance').filter((i) =>
    arr(i.NetworkInterfaces)
      .map(obj)
      .some((n) => n.AssociatePublicIpAddress === true),
  ).length;

  const taskDef = all('AWS::ECS::TaskDefinition')[0];
  const task: TemplateFacts['task'] = taskDef
    ? {
        vcpu: Number(taskDef.Cpu) / 1024,
        memoryGb: Number(taskDef.Memory) / 1024,
        arch: obj(taskDef.RuntimePlatform).CpuArchitecture === 'ARM64' ? 'ARM64' : 'X86_64',
      }
    : undefined;

  const target = all('AWS::ApplicationAutoScaling::ScalableTarget')[0];
  const actions = arr(target?.ScheduledActions).map(obj);
  const upAction = actions.find((a) => Number(obj(a.ScalableTargetAction).MinCapacity) >= 1);
  const downAction = actions.find((a) => Number(obj(a.ScalableTargetAction).MaxCapacity) === 0);
  const taskWindow =
    upAction && downAction
      ? windowBetween(String(upAction.Schedule), String(downAction.Schedule))
      : undefined;

  const schedules = all('AWS::Scheduler::Schedule');
  const starts = schedules.filter((s) => schedulerAction(s) === 'ec2:startInstances');
  const stops = schedules.filter((s) => schedulerAction(s) === 'ec2:stopInstances');
  const [start, stop] = [starts[0], stops[0]];
  const instanceWindow =
    start && stop
      ? windowBetween(String(start.ScheduleExpression), String(stop.ScheduleExpression))
      : undefined;
  const instanceMinutesPerWeek =
    starts.length && stops.length
      ? runningMinutesPerWeek(
          starts.map((s) => String(s.ScheduleExpression)),
          stops.map((s) => String(s.ScheduleExpression)),
        )
      : undefined;
  const zones = new Set(
    all('AWS::Route53::RecordSet')
      .map((r) => JSON.stringify(r.HostedZoneId ?? ''))
      .filter((z) => z !== '""'),
  );
  const secureParameters = all('Custom::AWS').filter((r) => {
    const create = str(r.Create);
    return /"action":"putParameter"/.test(create) && /"Type":"SecureString"/.test(create);
  }).length;
  const heartbeatMetrics = all('AWS::CloudWatch::Alarm').some((a) => a.MetricName === 'ProxyReachable')
    ? 1
    : 0;

  const ecr = all('AWS::ECR::Repository');
  const keep = ecr
    .map((r) => str(obj(r.LifecyclePolicy).LifecyclePolicyText))
    .map((text) => Number(/"countNumber":\s*(\d+)/.exec(text)?.[1] ?? NaN))
    .find((n) => Number.isFinite(n));

  const audioRule = all('AWS::S3::Bucket')
    .flatMap((b) => arr(obj(b.LifecycleConfiguration).Rules).map(obj))
    .find((r) => /audio\/$/.test(str(r.Prefix)) && r.ExpirationInDays !== undefined);

  return {
    instances,
    elasticIps: all('AWS::EC2::EIP').length,
    publicIpInstances,
    task,
    maxTasks: Number(target?.MaxCapacity ?? 1),
    taskWindow,
    instanceWindow,
    instanceMinutesPerWeek,
    hostedZonesReferenced: zones.size,
    secureParameters,
    heartbeatMetrics,
    alarms: all('AWS::CloudWatch::Alarm').length,
    targetTrackingAlarms:
      2 *
      all('AWS::ApplicationAutoScaling::ScalingPolicy').filter(
        (p) => p.PolicyType === 'TargetTrackingScaling',
      ).length,
    metricFilters: all('AWS::Logs::MetricFilter').length,
    dashboards: all('AWS::CloudWatch::Dashboard').length,
    secrets: all('AWS::SecretsManager::Secret').length,
    privateDnsNamespaces: all('AWS::ServiceDiscovery::PrivateDnsNamespace').length,
    hostedZonesCreated: all('AWS::Route53::HostedZone').length,
    natGateways: all('AWS::EC2::NatGateway').length,
    logRetentionDays: all('AWS::Logs::LogGroup').map((g) => Number(g.RetentionInDays ?? 0)),
    ecrRepositories: ecr.length,
    ecrKeepImages: keep ?? 0,
    wafWebAcls: all('AWS::WAFv2::WebACL').map((w) => ({ rules: arr(w.Rules).length })),
    schedules: schedules.length,
    audioExpirationDays: audioRule ? Number(audioRule.ExpirationInDays) : undefined,
    tables: all('AWS::DynamoDB::Table').map((t) => ({
      onDemand: t.BillingMode === 'PAY_PER_REQUEST',
      pitr: obj(t.PointInTimeRecoverySpecification).PointInTimeRecoveryEnabled === true,
    })),
  };
}
