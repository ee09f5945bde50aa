import * as budgets from 'aws-cdk-lib/aws-budgets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subs from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';

export interface AlertsProps {
  /** Monthly cost budget in USD. */
  readonly monthlyBudgetUsd: number;
  /** Receives alarms and budget notifications. @default no subscription (subscribe to the topic yourself) */
  readonly email?: string;
  /**
   * Percentages of the budget that notify on actual spend; forecasted spend notifies at 100 %.
   * @default [80, 100]
   */
  readonly actualThresholdsPercent?: readonly number[];
}

/** One SNS topic for every alarm, and the AWS Budgets monthly cost budget that publishes to it. */
export class Alerts extends Construct {
  public readonly topic: sns.Topic;
  public readonly budget: budgets.CfnBudget;

  constructor(scope: Construct, id: string, props: AlertsProps) {
    super(scope, id);
    if (!(props.monthlyBudgetUsd > 0))
      throw new Error(`Alerts: monthlyBudgetUsd must be positive, got ${props.monthlyBudgetUsd}`);
    if (props.email !== undefined && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(props.email)) {
      throw new Error(`Alerts: email "${props.email}" is not an e-mail address`);
    }
    const thresholds = props.actualThresholdsPercent ?? [80, 100];
    if (thresholds.length === 0 || thresholds.some((t) => !(t > 0 && t <= 1000))) {
      throw new Error('Alerts: actualThresholdsPercent needs percentages in (0, 1000]');
    }

    this.topic = new sns.Topic(this, 'Topic', { displayName: 'Earshot alerts', enforceSSL: true });
    if (props.email) this.topic.addSubscription(new subs.EmailSubscription(props.email));
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AwsBudgetsPublish',
        principals: [new iam.ServicePrincipal('budgets.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
      }),
    );

    const subscribers = [
      { subscriptionType: 'SNS', address: this.topic.topicArn },
      ...(props.email ? [{ subscriptionType: 'EMAIL', address: props.email }] : []),
    ];
    const notify = (notificationType: 'ACTUAL' | 'FORECASTED', threshold: number) => ({
      notification: {
        notificationType,
        comparisonOperator: 'GREATER_THAN',
        threshold,
        thresholdType: 'PERCENTAGE',
      },
      subscribers,
    });
    this.budget = new budgets.CfnBudget(this, 'MonthlyBudget', {
      budget: {
        budgetType: 'COST',
        timeUnit: 'MONTHLY',
        budgetLimit: { amount: props.monthlyBudgetUsd, unit: 'USD' },
      },
      notificationsWithSubscribers: [
        ...thresholds.map((t) => notify('ACTUAL', t)),
        notify('FORECASTED', 100),
      ],
    });
  }
}
