import { Duration, Stack, TimeZone } from 'aws-cdk-lib';
import * as appscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import { Construct } from 'constructs';
import type { WeekDay } from '../config.js';
import {
  computeScheduleTimes,
  cronDays,
  shiftWeeklyTime,
  type ServiceScheduleTimes,
  type WeeklyTime,
} from '../schedule-times.js';

/** Namespace, metric and dimension of the connection gauge the server publishes through EMF. */
export const CONNECTIONS_METRIC = {
  namespace: 'Earshot',
  metricName: 'PlayerConnections',
  dimension: 'Service',
} as const;

export interface ServiceScheduleProps {
  readonly service: ecs.FargateService;
  /** Physical service name (the `Service` dimension of the EMF metric). */
  readonly serviceName: string;
  readonly instance: ec2.Instance;
  /** IANA time zone of the times below. */
  readonly timeZone: string;
  /** "HH:MM" the tasks scale up. */
  readonly start: string;
  /** "HH:MM" the tasks scale to zero. */
  readonly end: string;
  readonly days: readonly WeekDay[];
  /** @default 10 */
  readonly instanceLeadMinutes?: number;
  /** @default 15 */
  readonly instanceLagMinutes?: number;
  /**
   * A weekly off-hours window in which the instance is started alone, patches itself (earshot-patch) and is stopped.
   * @default none
   */
  readonly patchWindow?: { readonly day: WeekDay; readonly start: string; readonly minutes: number };
  /** @default 2 */
  readonly maxTasks?: number;
  /** Average player connections per task that target tracking aims for. @default 50 */
  readonly targetConnectionsPerTask?: number;
  /**
   * Alarms whose actions only make sense while the service should be up (e.g. "no task running"): their actions are
   * enabled `alarmGraceMinutes` after the tasks scale up and disabled when they scale down.
   * @default none
   */
  readonly activeHoursAlarms?: readonly cloudwatch.IAlarm[];
  /** @default 15 */
  readonly alarmGraceMinutes?: number;
}

/**
 * Scale to zero outside active hours: Application Auto Scaling scheduled actions for the tasks, EventBridge Scheduler
 * for the proxy/NAT instance (started before the tasks, stopped after them), target tracking on player connections.
 */
export class ServiceSchedule extends Construct {
  public readonly times: ServiceScheduleTimes;
  public readonly scaling: ecs.ScalableTaskCount;
  public readonly startInstance: scheduler.Schedule;
  public readonly stopInstance: scheduler.Schedule;
  public readonly startForPatch?: scheduler.Schedule;
  public readonly stopAfterPatch?: scheduler.Schedule;
  public readonly connectionsMetric: cloudwatch.Metric;

  constructor(scope: Construct, id: string, props: ServiceScheduleProps) {
    super(scope, id);
    const maxTasks = props.maxTasks ?? 2;
    const target = props.targetConnectionsPerTask ?? 50;
    const grace = props.alarmGraceMinutes ?? 15;
    if (!Number.isInteger(maxTasks) || maxTasks < 1)
      throw new Error(`ServiceSchedule: maxTasks must be a positive integer, got ${maxTasks}`);
    if (!(target > 0))
      throw new Error(`ServiceSchedule: targetConnectionsPerTask must be positive, got ${target}`);
    if (props.days.length === 0) throw new Error('ServiceSchedule: days must name at least one day');
    const lead = props.instanceLeadMinutes ?? 10;
    const lag = props.instanceLagMinutes ?? 15;
    if (lead < 1 || lag < 1)
      throw new Error(
        'ServiceSchedule: the instance must start before and stop after the tasks (lead and lag ≥ 1 minute)',
      );
    this.times = computeScheduleTimes({
      start: props.start,
      end: props.end,
      days: props.days,
      instanceLeadMinutes: lead,
      instanceLagMinutes: lag,
    });
    const tz = TimeZone.of(props.timeZone);

    this.scaling = props.service.autoScaleTaskCount({ minCapacity: 0, maxCapacity: maxTasks });
    this.scaling.scaleOnSchedule('TasksUp', {
      schedule: appCron(this.times.tasksUp),
      minCapacity: 1,
      maxCapacity: maxTasks,
      timeZone: tz,
    });
    this.scaling.scaleOnSchedule('TasksDown', {
      schedule: appCron(this.times.tasksDown),
      minCapacity: 0,
      maxCapacity: 0,
      timeZone: tz,
    });

    this.connectionsMetric = new cloudwatch.Metric({
      namespace: CONNECTIONS_METRIC.namespace,
      metricName: CONNECTIONS_METRIC.metricName,
      dimensionsMap: { [CONNECTIONS_METRIC.dimension]: props.serviceName },
      statistic: 'Average',
      unit: cloudwatch.Unit.COUNT,
      period: Duration.minutes(1),
    });
    // No data (no tasks, or the server not publishing) leaves the count alone: the scheduled actions rule.
    this.scaling.scaleToTrackCustomMetric('PlayerConnections', {
      metric: this.connectionsMetric,
      targetValue: target,
      scaleOutCooldown: Duration.minutes(2),
      scaleInCooldown: Duration.minutes(10),
    });

    const instanceArn = Stack.of(this).formatArn({
      service: 'ec2',
      resource: 'instance',
      resourceName: props.instance.instanceId,
    });
    const ec2Call = (action: 'startInstances' | 'stopInstances') =>
      new targets.Universal({
        service: 'ec2',
        action,
        input: scheduler.ScheduleTargetInput.fromObject({ InstanceIds: [props.instance.instanceId] }),
        policyStatements: [
          new iam.PolicyStatement({
            actions: [`ec2:${action[0]?.toUpperCase()}${action.slice(1)}`],
            resources: [instanceArn],
          }),
        ],
        retryAttempts: 3,
      });
    this.startInstance = new scheduler.Schedule(this, 'StartInstance', {
      description: `Start the proxy/NAT instance ${lead} min before the tasks`,
      schedule: schedulerCron(this.times.instanceStart, tz),
      target: ec2Call('startInstances'),
    });
    this.stopInstance = new scheduler.Schedule(this, 'StopInstance', {
      description: `Stop the proxy/NAT instance ${lag} min after the tasks scale to zero`,
      schedule: schedulerCron(this.times.instanceStop, tz),
      target: ec2Call('stopInstances'),
    });

    if (props.patchWindow) {
      const p = props.patchWindow;
      const [h = 0, m = 0] = p.start.split(':').map(Number);
      const begin = shiftWeeklyTime(h * 60 + m, [p.day], 0);
      const end = shiftWeeklyTime(h * 60 + m, [p.day], p.minutes);
      this.startForPatch = new scheduler.Schedule(this, 'StartForPatch', {
        description: `Start the proxy/NAT instance for its weekly patching (${p.minutes} min)`,
        schedule: schedulerCron(begin, tz),
        target: ec2Call('startInstances'),
      });
      this.stopAfterPatch = new scheduler.Schedule(this, 'StopAfterPatch', {
        description: 'Stop the proxy/NAT instance after its weekly patching',
        schedule: schedulerCron(end, tz),
        target: ec2Call('stopInstances'),
      });
    }

    const alarms = props.activeHoursAlarms ?? [];
    if (alarms.length > 0) this.armDuringActiveHours(alarms, grace, tz);
  }

  /**
   * "No task running" is only wrong during active hours. At night the alarm sits in ALARM with its actions disabled;
   * `grace` minutes after scale-up it is reset to OK and, a minute later, its actions are enabled, so a service that
   * did not come up makes a fresh OK → ALARM transition and notifies. At scale-down the actions are disabled again.
   */
  private armDuringActiveHours(alarms: readonly cloudwatch.IAlarm[], grace: number, tz: TimeZone): void {
    const up = this.times.tasksUp;
    const resetAt = shiftWeeklyTime(up.hour * 60 + up.minute, up.days, grace);
    const armAt = shiftWeeklyTime(up.hour * 60 + up.minute, up.days, grace + 1);
    const call = (action: string, input: Record<string, unknown>, resources: string[]) =>
      new targets.Universal({
        service: 'cloudwatch',
        action,
        input: scheduler.ScheduleTargetInput.fromObject(input),
        policyStatements: [
          new iam.PolicyStatement({
            actions: [`cloudwatch:${action[0]?.toUpperCase()}${action.slice(1)}`],
            resources,
          }),
        ],
      });
    alarms.forEach((alarm, i) => {
      new scheduler.Schedule(this, `ResetActiveHoursAlarm${i}`, {
        description: `Reset an active-hours alarm to OK ${grace} min after the tasks scale up`,
        schedule: schedulerCron(resetAt, tz),
        target: call(
          'setAlarmState',
          { AlarmName: alarm.alarmName, StateValue: 'OK', StateReason: 'Active hours begin' },
          [alarm.alarmArn],
        ),
      });
    });
    const names = alarms.map((a) => a.alarmName);
    const arns = alarms.map((a) => a.alarmArn);
    new scheduler.Schedule(this, 'ArmActiveHoursAlarms', {
      description: 'Enable the actions of the active-hours alarms',
      schedule: schedulerCron(armAt, tz),
      target: call('enableAlarmActions', { AlarmNames: names }, arns),
    });
    new scheduler.Schedule(this, 'DisarmActiveHoursAlarms', {
      description: 'Disable the actions of the active-hours alarms when the tasks scale to zero',
      schedule: schedulerCron(this.times.tasksDown, tz),
      target: call('disableAlarmActions', { AlarmNames: names }, arns),
    });
  }
}

function appCron(t: WeeklyTime): appscaling.Schedule {
  return appscaling.Schedule.cron({
    minute: String(t.minute),
    hour: String(t.hour),
    weekDay: cronDays(t.days),
  });
}

function schedulerCron(t: WeeklyTime, timeZone: TimeZone): scheduler.ScheduleExpression {
  return scheduler.ScheduleExpression.cron({
    minute: String(t.minute),
    hour: String(t.hour),
    weekDay: cronDays(t.days),
    timeZone,
  });
}
