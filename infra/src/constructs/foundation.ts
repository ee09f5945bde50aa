import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';

/** Where an application secret lives: a Secrets Manager secret, or an SSM SecureString parameter (by name). */
export type AppSecret =
  | { readonly kind: 'secrets-manager'; readonly secret: secretsmanager.ISecret }
  | { readonly kind: 'ssm-parameter'; readonly parameterName: string };

/** The value a SecureString parameter is created with; the server refuses it as a key list, so it cannot go unnoticed. */
export const PARAMETER_PLACEHOLDER = 'unset: set the real value with aws ssm put-parameter --overwrite';

/** The secret as a task sees it; an SSM parameter is referenced by name from `scope`'s stack (no export needed). */
export function ecsSecretOf(scope: Construct, id: string, secret: AppSecret): ecs.Secret {
  if (secret.kind === 'secrets-manager') return ecs.Secret.fromSecretsManager(secret.secret);
  return ecs.Secret.fromSsmParameter(
    ssm.StringParameter.fromSecureStringParameterAttributes(scope, id, {
      parameterName: secret.parameterName,
    }),
  );
}

export interface GitHubDeployAccess {
  /** `owner/repo`. */
  readonly repository: string;
  /** Git ref allowed to assume the role, e.g. `refs/heads/main`. */
  readonly ref: string;
  /** Existing GitHub OIDC provider; when absent one is created (one per account). */
  readonly oidcProviderArn?: string;
}

export interface FoundationProps {
  /**
   * Images kept in the repository; older ones are expired.
   * @default 5
   */
  readonly keepImages?: number;
  /** Lets GitHub Actions of one repository deploy. @default no role */
  readonly github?: GitHubDeployAccess;
  /**
   * Where the two application secrets live: Secrets Manager ($0.40 a month each), or SSM Parameter Store
   * SecureString parameters (standard tier: no charge) under `parameterPrefix`.
   * @default 'secrets-manager'
   */
  readonly secretStore?: 'secrets-manager' | 'ssm-parameters';
  /** Prefix of the parameter names, e.g. `/earshot/Earshot`. Required with `ssm-parameters`. */
  readonly parameterPrefix?: string;
}

/**
 * What must exist before the service can start: the image repository and the two secrets. Lives in its own stack
 * so the first deploy can push an image and set the secrets before any task tries to start.
 */
export class Foundation extends Construct {
  public readonly repository: ecr.Repository;
  /** The ElevenLabs API key (`ELEVENLABS_API_KEY`). */
  public readonly elevenLabsKey: AppSecret;
  /** Comma-separated `name:sha256hex` of Earshot keys (`EARSHOT_API_KEYS`). */
  public readonly apiKeyHashes: AppSecret;
  public readonly deployRole?: iam.Role;

  constructor(scope: Construct, id: string, props: FoundationProps = {}) {
    super(scope, id);
    const keep = props.keepImages ?? 5;
    if (!Number.isInteger(keep) || keep < 1 || keep > 100)
      throw new Error(`Foundation: keepImages must be 1–100, got ${keep}`);

    this.repository = new ecr.Repository(this, 'Repository', {
      imageScanOnPush: true,
      imageTagMutability: ecr.TagMutability.MUTABLE,
      encryption: ecr.RepositoryEncryption.AES_256,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [{ description: `Keep the last ${keep} images`, maxImageCount: keep }],
    });

    if ((props.secretStore ?? 'secrets-manager') === 'secrets-manager') {
      // Created with random placeholders; `docs/deploy.md` sets the real values before the service starts.
      this.elevenLabsKey = {
        kind: 'secrets-manager',
        secret: new secretsmanager.Secret(this, 'ElevenLabsApiKey', {
          description: 'Earshot: ElevenLabs API key (ELEVENLABS_API_KEY). Replace the generated placeholder.',
          generateSecretString: { excludePunctuation: true, passwordLength: 32 },
          removalPolicy: RemovalPolicy.RETAIN,
        }),
      };
      this.apiKeyHashes = {
        kind: 'secrets-manager',
        secret: new secretsmanager.Secret(this, 'ApiKeyHashes', {
          description:
            'Earshot: EARSHOT_API_KEYS, comma-separated name:sha256hex lines from `earshot keys create NAME`.',
          generateSecretString: { excludePunctuation: true, passwordLength: 32 },
          removalPolicy: RemovalPolicy.RETAIN,
        }),
      };
    } else {
      const prefix = props.parameterPrefix ?? '';
      if (!/^(\/[A-Za-z0-9_.-]+)+$/.test(prefix)) {
        throw new Error(`Foundation: parameterPrefix must be like "/earshot/Earshot", got "${prefix}"`);
      }
      this.elevenLabsKey = this.secureParameter(
        'ElevenLabsApiKey',
        `${prefix}/elevenlabs-api-key`,
        'ELEVENLABS_API_KEY',
      );
      this.apiKeyHashes = this.secureParameter('ApiKeyHashes', `${prefix}/api-keys`, 'EARSHOT_API_KEYS');
    }

    if (props.github) this.deployRole = this.createDeployRole(props.github);
  }

  /**
   * An SSM SecureString parameter. CloudFormation cannot create SecureStrings, so a custom resource calls
   * PutParameter once, with a placeholder and Overwrite off (an existing value is kept), and never again: no update
   * and no delete call, so the value the operator sets is never touched, and deleting the stack keeps it (as the
   * Secrets Manager secrets are retained).
   */
  private secureParameter(id: string, name: string, variable: string): AppSecret {
    const arn = Stack.of(this).formatArn({
      service: 'ssm',
      resource: 'parameter',
      resourceName: name.slice(1),
    });
    new cr.AwsCustomResource(this, id, {
      onCreate: {
        service: 'SSM',
        action: 'putParameter',
        parameters: {
          Name: name,
          Type: 'SecureString',
          Tier: 'Standard',
          Overwrite: false,
          Value: PARAMETER_PLACEHOLDER,
          Description: `Earshot: ${variable}. Set with aws ssm put-parameter --overwrite (docs/deploy.md).`,
        },
        physicalResourceId: cr.PhysicalResourceId.of(name),
        ignoreErrorCodesMatching: 'ParameterAlreadyExists',
      },
      installLatestAwsSdk: false,
      policy: cr.AwsCustomResourcePolicy.fromStatements([
        new iam.PolicyStatement({ actions: ['ssm:PutParameter'], resources: [arn] }),
      ]),
    });
    return { kind: 'ssm-parameter', parameterName: name };
  }

  private createDeployRole(gh: GitHubDeployAccess): iam.Role {
    if (!/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/.test(gh.repository)) {
      throw new Error(`Foundation: github.repository must be "owner/repo", got "${gh.repository}"`);
    }
    const stack = Stack.of(this);
    const providerArn =
      gh.oidcProviderArn ??
      new iam.OidcProviderNative(this, 'GitHubOidc', {
        url: 'https://token.actions.githubusercontent.com',
        clientIds: ['sts.amazonaws.com'],
      }).oidcProviderArn;
    const role = new iam.Role(this, 'GitHubDeployRole', {
      description: `GitHub Actions of ${gh.repository} (${gh.ref}): push images, run cdk deploy`,
      maxSessionDuration: Duration.hours(1),
      assumedBy: new iam.WebIdentityPrincipal(providerArn, {
        StringEquals: { 'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com' },
        StringLike: { 'token.actions.githubusercontent.com:sub': `repo:${gh.repository}:ref:${gh.ref}` },
      }),
    });
    this.repository.grantPullPush(role);
    // cdk deploy works through the bootstrap roles; the deploy role itself can change nothing else.
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['sts:AssumeRole'],
        resources: [
          `arn:${stack.partition}:iam::${stack.account}:role/cdk-hnb659fds-*-${stack.account}-${stack.region}`,
        ],
      }),
    );
    return role;
  }
}
