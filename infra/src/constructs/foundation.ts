import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';

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
}

/**
 * What must exist before the service can start: the image repository and the two secrets. Lives in its own stack
 * so the first deploy can push an image and set the secrets before any task tries to start.
 */
export class Foundation extends Construct {
  public readonly repository: ecr.Repository;
  /** The ElevenLabs API key (`ELEVENLABS_API_KEY`). */
  public readonly elevenLabsKey: secretsmanager.Secret;
  /** Comma-separated `name:sha256hex` of Earshot keys (`EARSHOT_API_KEYS`). */
  public readonly apiKeyHashes: secretsmanager.Secret;
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

    // Created with random placeholders; `docs/deploy.md` sets the real values before the service starts.
    this.elevenLabsKey = new secretsmanager.Secret(this, 'ElevenLabsApiKey', {
      description: 'Earshot: ElevenLabs API key (ELEVENLABS_API_KEY). Replace the generated placeholder.',
      generateSecretString: { excludePunctuation: true, passwordLength: 32 },
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.apiKeyHashes = new secretsmanager.Secret(this, 'ApiKeyHashes', {
      description:
        'Earshot: EARSHOT_API_KEYS, comma-separated name:sha256hex lines from `earshot keys create NAME`.',
      generateSecretString: { excludePunctuation: true, passwordLength: 32 },
      removalPolicy: RemovalPolicy.RETAIN,
    });

    if (props.github) this.deployRole = this.createDeployRole(props.github);
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
