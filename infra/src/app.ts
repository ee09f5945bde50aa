import { App, Tags } from 'aws-cdk-lib';
import type { EarshotConfig } from './config.js';
import { applyNagSuppressions } from './suppressions.js';
import { EarshotStack, FoundationStack } from './stacks.js';

export interface BuildOptions {
  /** Existing app (the CLI's context lives in it). @default a new App */
  readonly app?: App;
  /** Built console to upload, when present. */
  readonly consoleAssetsPath?: string;
}

export interface EarshotApp {
  readonly app: App;
  readonly foundation: FoundationStack;
  readonly service: EarshotStack;
}

/**
 * Feature flags the app is written against, set here (not in cdk.json) so that `cdk synth`, `npm run synth` and the
 * tests build exactly the same templates. Each is a real flag of aws-cdk-lib (`FLAGS` in aws-cdk-lib/cx-api, checked
 * by a test):
 * - uniqueImdsv2TemplateName: the launch template `requireImdsv2` makes gets a name unique to its construct path,
 *   stack included. Without it every stack's is `InstanceLaunchTemplate`, and a second stack fails to deploy.
 * - defaultCrossStackReferences: the service stack's references to the foundation stack are ordinary exports.
 * - minimizePolicies: IAM statements are merged where they can be.
 */
export const FEATURE_FLAGS: Readonly<Record<string, string | boolean>> = {
  '@aws-cdk/aws-ec2:uniqueImdsv2TemplateName': true,
  '@aws-cdk/core:defaultCrossStackReferences': 'strong',
  '@aws-cdk/aws-iam:minimizePolicies': true,
};

/** Builds both stacks from one validated configuration. No file or environment access: the caller supplies both. */
export function buildEarshotApp(config: EarshotConfig, options: BuildOptions = {}): EarshotApp {
  const app = options.app ?? new App();
  for (const [key, value] of Object.entries(FEATURE_FLAGS)) {
    if (app.node.tryGetContext(key) === undefined) app.node.setContext(key, value);
  }
  // Region only: account-agnostic, so synth needs no credentials and does no lookups.
  const env = { region: config.region };
  const foundation = new FoundationStack(app, `${config.stackName}-foundation`, {
    env,
    config,
    description: `Earshot (${config.profile} profile): image repository, secrets, GitHub deploy role`,
  });
  const service = new EarshotStack(app, config.stackName, {
    env,
    config,
    foundation: foundation.foundation,
    consoleAssetsPath: options.consoleAssetsPath,
    description: `Earshot (${config.profile} profile${config.domain ? '' : ', TRIAL: no domain'}): proxy/NAT instance, Fargate service, console, schedule, monitoring`,
  });
  service.addStackDependency(foundation);
  for (const stack of [foundation, service]) Tags.of(stack).add('project', 'earshot');
  applyNagSuppressions(foundation, service);
  return { app, foundation, service };
}
