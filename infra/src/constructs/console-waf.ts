import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import type { Construct } from 'constructs';

/**
 * A CLOUDFRONT-scope web ACL: AWS managed common and known-bad-input rules plus a per-IP rate limit. CLOUDFRONT web
 * ACLs exist only in us-east-1, so this is only created when the stack is there (else configure `webAclArn`).
 */
export function consoleWebAcl(scope: Construct): wafv2.CfnWebACL {
  const visibility = (metricName: string) => ({
    cloudWatchMetricsEnabled: true,
    sampledRequestsEnabled: true,
    metricName,
  });
  const managed = (name: string, priority: number, excluded: string[] = []) => ({
    name,
    priority,
    overrideAction: { none: {} },
    statement: {
      managedRuleGroupStatement: {
        vendorName: 'AWS',
        name,
        ruleActionOverrides: excluded.map((rule) => ({ name: rule, actionToUse: { count: {} } })),
      },
    },
    visibilityConfig: visibility(name),
  });
  return new wafv2.CfnWebACL(scope, 'WebAcl', {
    scope: 'CLOUDFRONT',
    defaultAction: { allow: {} },
    visibilityConfig: visibility('EarshotConsole'),
    rules: [
      // MCP and speak bodies can exceed the 8 KB body-size rule: count it instead of blocking.
      managed('AWSManagedRulesCommonRuleSet', 1, ['SizeRestrictions_BODY']),
      managed('AWSManagedRulesKnownBadInputsRuleSet', 2),
      {
        name: 'RateLimitPerIp',
        priority: 3,
        action: { block: {} },
        statement: { rateBasedStatement: { limit: 2000, aggregateKeyType: 'IP' } },
        visibilityConfig: visibility('RateLimitPerIp'),
      },
    ],
  });
}
