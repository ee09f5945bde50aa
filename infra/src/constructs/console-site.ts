import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as r53targets from 'aws-cdk-lib/aws-route53-targets';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';
import { ORIGIN_VERIFY_HEADER } from '../proxy/render.js';
import { consoleWebAcl } from './console-waf.js';
import { SPA_ROUTES_FUNCTION } from './console-spa.js';

/** Paths the Earshot server answers: routed to the proxy on every name of the distribution. */
export const API_PATHS = ['/api/*', '/ws', '/mcp', '/healthz', '/readyz'] as const;

/**
 * CloudFront's origin read timeout for the API, set deliberately: 60 s is the most CloudFront allows without a
 * quota increase, and the server sends a keepalive on every silent MCP stream every 20 s (SSE_KEEPALIVE_MS), so a
 * `speak` waiting minutes for `played` is never cut. Players get a WebSocket ping every 30 s.
 */
export const ORIGIN_READ_TIMEOUT = Duration.seconds(60);

export interface ApiOrigin {
  /** The proxy's name: the origin domain (HTTPS) or, in a trial, the EC2 public DNS name (HTTP). */
  readonly domainName: string;
  /** HTTPS with a Let's Encrypt certificate for `domainName`; HTTP only in a trial. */
  readonly protocol: 'https' | 'http';
  /** Sent as X-Earshot-Origin-Verify on every request to the proxy; nginx refuses requests without it. */
  readonly secret: string;
}

export interface ConsoleSiteProps {
  /** Where the API paths go: the proxy. */
  readonly apiOrigin: ApiOrigin;
  /** Built console (`web/dist`) to upload. @default only `config.json` is deployed */
  readonly assetsPath?: string;
  /** Names of the distribution (the API's public name, the console's). @default the `*.cloudfront.net` name */
  readonly domainNames?: readonly string[];
  /** Certificate (us-east-1) for every name in `domainNames`. @default one is made and validated in `hostedZone` */
  readonly certificate?: acm.ICertificate;
  /** Zone in which to create the alias records (and validate a new certificate). */
  readonly hostedZone?: route53.IHostedZone;
  /** Attach a web ACL: `create` (stack must be in us-east-1) or an existing CLOUDFRONT web ACL ARN. @default none */
  readonly waf?: { readonly create: true } | { readonly webAclArn: string };
  /** Require CloudFront signed URLs/cookies made with this PEM public key's private key. @default public */
  readonly signedUrlsPublicKeyPem?: string;
}

/** The console: a private S3 bucket behind CloudFront (origin access control), security headers, runtime config. */
export class ConsoleSite extends Construct {
  public readonly bucket: s3.Bucket;
  public readonly distribution: cloudfront.Distribution;
  /** `https://<distribution>.cloudfront.net`: the console (and the API) on CloudFront's own name. */
  public readonly cloudFrontOrigin: string;
  /** The console's client-side routes (default behaviour only). */
  public readonly spaRoutes: cloudfront.Function;
  public readonly responseHeaders: cloudfront.ResponseHeadersPolicy;

  constructor(scope: Construct, id: string, props: ConsoleSiteProps) {
    super(scope, id);
    const names = props.domainNames ?? [];
    if (names.length > 0 && !props.certificate && !props.hostedZone) {
      throw new Error(`ConsoleSite: ${names.join(', ')} need a certificate or a hosted zone to validate one`);
    }
    if (props.apiOrigin.domainName === '') throw new Error('ConsoleSite: apiOrigin.domainName is empty');

    this.bucket = new s3.Bucket(this, 'Bucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      // The contents are rebuilt by every deploy.
      removalPolicy: RemovalPolicy.RETAIN,
    });

    // The console calls the API on its own origin: every name of this distribution routes the API paths.
    const connectSrc = `'self'`;
    const mediaSrc = `'self' blob:`;
    this.responseHeaders = new cloudfront.ResponseHeadersPolicy(this, 'SecurityHeaders', {
      comment: 'Earshot console: CSP, HSTS and friends',
      securityHeadersBehavior: {
        contentSecurityPolicy: {
          contentSecurityPolicy: [
            "default-src 'self'",
            `connect-src ${connectSrc}`,
            `media-src ${mediaSrc}`,
            "img-src 'self' data: blob:",
            "script-src 'self'",
            "style-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
          ].join('; '),
          override: true,
        },
        strictTransportSecurity: {
          accessControlMaxAge: Duration.days(730),
          includeSubdomains: true,
          override: true,
        },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: cloudfront.HeadersFrameOption.DENY, override: true },
        referrerPolicy: {
          referrerPolicy: cloudfront.HeadersReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN,
          override: true,
        },
      },
      customHeadersBehavior: {
        customHeaders: [
          { header: 'Permissions-Policy', value: 'camera=(), microphone=(), geolocation=()', override: true },
        ],
      },
    });

    const keyGroups = props.signedUrlsPublicKeyPem
      ? [
          new cloudfront.KeyGroup(this, 'SignerKeys', {
            items: [
              new cloudfront.PublicKey(this, 'SignerKey', { encodedKey: props.signedUrlsPublicKeyPem }),
            ],
          }),
        ]
      : undefined;

    const s3Origin = origins.S3BucketOrigin.withOriginAccessControl(this.bucket);
    const additionalBehaviors: Record<string, cloudfront.BehaviorOptions> = {
      // The runtime config changes with deploys: never cached.
      '/config.json': {
        origin: s3Origin,
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        cachePolicy: cloudfront.CachePolicy.CACHING_DISABLED,
        responseHeadersPolicy: this.responseHeaders,
        trustedKeyGroups: keyGroups,
      },
    };
    const apiOrigin = new origins.HttpOrigin(props.apiOrigin.domainName, {
      protocolPolicy:
        props.apiOrigin.protocol === 'https'
          ? cloudfront.OriginProtocolPolicy.HTTPS_ONLY
          : cloudfront.OriginProtocolPolicy.HTTP_ONLY,
      originSslProtocols: [cloudfront.OriginSslPolicy.TLS_V1_2],
      readTimeout: ORIGIN_READ_TIMEOUT,
      keepaliveTimeout: Duration.seconds(60),
      customHeaders: { [ORIGIN_VERIFY_HEADER]: props.apiOrigin.secret },
    });
    // Authorization must be part of the key to be forwarded on GET; TTL 0 and the server's no-store keep it uncached.
    const apiCache = new cloudfront.CachePolicy(this, 'ApiPassThrough', {
      comment: 'Earshot API: not cached, Authorization forwarded',
      minTtl: Duration.seconds(0),
      defaultTtl: Duration.seconds(0),
      maxTtl: Duration.seconds(1),
      headerBehavior: cloudfront.CacheHeaderBehavior.allowList('Authorization'),
      queryStringBehavior: cloudfront.CacheQueryStringBehavior.all(),
      cookieBehavior: cloudfront.CacheCookieBehavior.none(),
    });
    for (const path of API_PATHS) {
      additionalBehaviors[path] = {
        origin: apiOrigin,
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
        allowedMethods: cloudfront.AllowedMethods.ALLOW_ALL,
        cachePolicy: apiCache,
        originRequestPolicy: cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
        compress: false,
      };
    }
    this.spaRoutes = new cloudfront.Function(this, 'SpaRoutes', {
      comment: 'Earshot console: client-side routes get index.html (default behaviour only)',
      code: cloudfront.FunctionCode.fromInline(SPA_ROUTES_FUNCTION),
      runtime: cloudfront.FunctionRuntime.JS_2_0,
    });

    const webAclId =
      props.waf === undefined
        ? undefined
        : 'webAclArn' in props.waf
          ? props.waf.webAclArn
          : consoleWebAcl(this).attrArn;
    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: 'Earshot console',
      defaultRootObject: 'index.html',
      defaultBehavior: {
        origin: s3Origin,
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
        responseHeadersPolicy: this.responseHeaders,
        compress: true,
        trustedKeyGroups: keyGroups,
        functionAssociations: [
          { function: this.spaRoutes, eventType: cloudfront.FunctionEventType.VIEWER_REQUEST },
        ],
      },
      additionalBehaviors,
      priceClass: cloudfront.PriceClass.PRICE_CLASS_100,
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      // Only a custom certificate can choose its TLS policy; the *.cloudfront.net one is fixed.
      minimumProtocolVersion: names.length ? cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021 : undefined,
      domainNames: names.length ? [...names] : undefined,
      certificate: names.length
        ? (props.certificate ?? this.newCertificate(names, props.hostedZone))
        : undefined,
      webAclId,
    });
    this.cloudFrontOrigin = `https://${this.distribution.distributionDomainName}`;

    if (props.hostedZone) {
      names.forEach((name, index) => {
        new route53.ARecord(this, index === 0 ? 'Alias' : `Alias${index}`, {
          zone: props.hostedZone!,
          recordName: name,
          target: route53.RecordTarget.fromAlias(new r53targets.CloudFrontTarget(this.distribution)),
        });
      });
    }

    const sources = [
      ...(props.assetsPath ? [s3deploy.Source.asset(props.assetsPath, { exclude: ['config.json'] })] : []),
      // Same build everywhere: the console reads its API location at run time; the API is on its own origin.
      s3deploy.Source.jsonData('config.json', { apiBaseUrl: '' }),
    ];
    new s3deploy.BucketDeployment(this, 'Deploy', {
      sources,
      destinationBucket: this.bucket,
      // Never delete: a deploy without a console build must not wipe the console that is there.
      prune: false,
      distribution: this.distribution,
      distributionPaths: ['/*'],
    });
  }

  private newCertificate(names: readonly string[], zone: route53.IHostedZone | undefined): acm.ICertificate {
    const [domainName, ...alternatives] = names;
    if (!zone || !domainName)
      throw new Error(`ConsoleSite: no certificate and no hosted zone for ${names.join(', ')}`);
    // Only valid when this stack is in us-east-1; the configuration rejects other regions without a certificate ARN.
    return new acm.Certificate(this, 'Certificate', {
      domainName,
      subjectAlternativeNames: alternatives.length ? alternatives : undefined,
      validation: acm.CertificateValidation.fromDns(zone),
    });
  }
}
