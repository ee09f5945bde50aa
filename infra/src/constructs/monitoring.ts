import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { CONNECTIONS_METRIC } from './service-schedule.js';

/** Namespace of the proxy's heartbeat (metric ProxyReachable, dimension Service), shared with the server's metrics. */
export const PROXY_METRIC_NAMESPACE = CONNECTIONS_METRIC.namespace;

export interface MonitoringProps {
  readonly service: ecs.FargateService;
  /** Physical service name: the `Service` dimension of the server's EMF metrics. */
  readonly serviceName: string;
  readonly logGroup: logs.ILogGroup;
  readonly instance: ec2.Instance;
  /** Alarms already created elsewhere (instance status) shown on the dashboard. */
  readonly instanceAlarms: readonly cloudwatch.IAlarm[];
  readonly topic: sns.ITopic;
  /** @default 200 */
  readonly connectionsHighThreshold?: number;
  /** Percentage of failed speech requests that alarms. @default 10 */
  readonly errorRatePercent?: number;
}

/**
 * The dashboard of the seed's "Monitoring" list and the alarms: server error rate, error log lines, no task during
 * active hours (armed by `ServiceSchedule`), too many player connections.
 */
export class Monitoring extends Construct {
  public readonly dashboard: cloudwatch.Dashboard;
  public readonly errorRateAlarm: cloudwatch.Alarm;
  public readonly errorLogAlarm: cloudwatch.Alarm;
  public readonly noTaskAlarm: cloudwatch.Alarm;
  public readonly connectionsHighAlarm: cloudwatch.Alarm;
  /** No heartbeat from the proxy through CloudFront for 5 minutes: it is stopped, or CloudFront cannot reach it. */
  public readonly proxyUnreachableAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const connectionsHigh = props.connectionsHighThreshold ?? 200;
    const errorRate = props.errorRatePercent ?? 10;
    if (!(connectionsHigh > 0))
      throw new Error(`Monitoring: connectionsHighThreshold must be positive, got ${connectionsHigh}`);
    if (!(errorRate > 0 && errorRate <= 100))
      throw new Error(`Monitoring: errorRatePercent must be in (0, 100], got ${errorRate}`);
    const action = new cwActions.SnsAction(props.topic);
    const earshot = (metricName: string, statistic: string) =>
      new cloudwatch.Metric({
        namespace: CONNECTIONS_METRIC.namespace,
        metricName,
        dimensionsMap: { [CONNECTIONS_METRIC.dimension]: props.serviceName },
        statistic,
        period: Duration.minutes(5),
      });

    const connections = earshot('PlayerConnections', 'Sum').with({
      period: Duration.minutes(1),
      label: 'Player connections (all tasks)',
    });
    const tasksReporting = earshot('PlayerConnections', 'SampleCount').with({
      period: Duration.minutes(1),
      label: 'Tasks reporting (1 sample/min each)',
    });
    const requests = earshot('SpeechRequests', 'Sum');
    const errors = earshot('SpeechErrors', 'Sum');
    const errorRateExpr = new cloudwatch.MathExpression({
      expression: 'IF(requests > 0, 100 * errors / requests, 0)',
      usingMetrics: { requests, errors },
      period: Duration.minutes(5),
      label: 'Speech error rate (%)',
    });
    const cpuSamples = props.service.metricCpuUtilization({
      statistic: 'SampleCount',
      period: Duration.minutes(1),
    });

    // pino writes JSON lines; level 50 = error, 60 = fatal.
    const errorLines = new logs.MetricFilter(this, 'ErrorLogLines', {
      logGroup: props.logGroup,
      filterPattern: logs.FilterPattern.numberValue('$.level', '>=', 50),
      metricNamespace: CONNECTIONS_METRIC.namespace,
      metricName: 'ErrorLogLines',
      metricValue: '1',
      defaultValue: 0,
    });
    const errorLineMetric = errorLines.metric({ statistic: 'Sum', period: Duration.minutes(5) });

    this.errorRateAlarm = errorRateExpr.createAlarm(this, 'ErrorRate', {
      alarmDescription: `More than ${errorRate}% of speech requests failed over 10 minutes (EMF SpeechErrors / SpeechRequests)`,
      threshold: errorRate,
      evaluationPeriods: 2,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.errorLogAlarm = errorLineMetric.createAlarm(this, 'ErrorLogs', {
      alarmDescription: 'The server logged 5 or more errors (level >= 50) in 5 minutes',
      threshold: 5,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    // ECS publishes service metrics only while a task runs: no data = no task. Armed only during active hours.
    this.noTaskAlarm = cpuSamples.createAlarm(this, 'NoRunningTask', {
      alarmDescription:
        'No Earshot task has been running for 5 minutes during active hours (armed by the schedule)',
      threshold: 1,
      evaluationPeriods: 5,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });
    this.connectionsHighAlarm = earshot('PlayerConnections', 'Average').createAlarm(this, 'ConnectionsHigh', {
      alarmDescription: `More than ${connectionsHigh} player WebSocket connections per task on average for 10 minutes`,
      threshold: connectionsHigh,
      evaluationPeriods: 2,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    // The proxy fetches /healthz through CloudFront every minute and reports only when nginx answered: no report
    // means it is stopped, its nginx is down, or CloudFront cannot reach it (DNS, certificate, security group).
    const heartbeat = new cloudwatch.Metric({
      namespace: PROXY_METRIC_NAMESPACE,
      metricName: 'ProxyReachable',
      dimensionsMap: { [CONNECTIONS_METRIC.dimension]: props.serviceName },
      statistic: 'SampleCount',
      period: Duration.minutes(1),
      label: 'Proxy heartbeats through CloudFront',
    });
    this.proxyUnreachableAlarm = heartbeat.createAlarm(this, 'ProxyUnreachable', {
      alarmDescription:
        'The proxy/NAT instance has not answered through CloudFront for 5 minutes during active hours: it is stopped or unreachable (armed by the schedule)',
      threshold: 1,
      evaluationPeriods: 5,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });
    for (const alarm of [
      this.errorRateAlarm,
      this.errorLogAlarm,
      this.noTaskAlarm,
      this.connectionsHighAlarm,
      this.proxyUnreachableAlarm,
    ]) {
      alarm.addAlarmAction(action);
    }

    const instanceMetric = (metricName: string, statistic: string) =>
      new cloudwatch.Metric({
        namespace: 'AWS/EC2',
        metricName,
        dimensionsMap: { InstanceId: props.instance.instanceId },
        statistic,
        period: Duration.minutes(5),
      });

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', { defaultInterval: Duration.days(1) });
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({ title: 'Player WebSocket connections', left: [connections], width: 8 }),
      new cloudwatch.GraphWidget({ title: 'Running tasks', left: [tasksReporting], width: 8 }),
      new cloudwatch.GraphWidget({
        title: 'Errors',
        left: [errorRateExpr],
        right: [errorLineMetric.with({ label: 'Error log lines' })],
        width: 8,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Proxy/NAT instance CPU',
        left: [instanceMetric('CPUUtilization', 'Average'), instanceMetric('CPUCreditBalance', 'Minimum')],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'NAT + proxy bytes',
        left: [instanceMetric('NetworkIn', 'Sum'), instanceMetric('NetworkOut', 'Sum')],
        width: 8,
      }),
      new cloudwatch.AlarmStatusWidget({
        title: 'Alarms',
        alarms: [
          ...props.instanceAlarms,
          this.errorRateAlarm,
          this.errorLogAlarm,
          this.noTaskAlarm,
          this.connectionsHighAlarm,
          this.proxyUnreachableAlarm,
        ],
        width: 8,
      }),
    );
  }
}
