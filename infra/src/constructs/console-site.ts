import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as r53targets from 'aws-cdk-lib/aws-route53-targets';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';
import { consoleWebAcl } from './console-waf.js';

/** Paths the Earshot server answers; routed to the proxy when the console and API share the CloudFront name. */
export const API_PATHS = ['/api/*', '/ws', '/mcp', '/healthz', '/readyz'] as const;

export interface ConsoleSiteProps {
  /**
   * Public base URL of the API written to `config.json`. Omit when `apiThroughCloudFront` is set: the console then
   * calls its own origin.
   * @default same origin
   */
  readonly apiBaseUrl?: string;
  /**
   * Serve the API paths through this distribution from this HTTP origin (the proxy's public DNS name). Used when no
   * domain is configured: browsers get HTTPS from CloudFront; the CloudFront → instance leg is plain HTTP.
   * @default API not routed through CloudFront
   */
  readonly apiThroughCloudFront?: string;
  /** Built console (`web/dist`) to upload. @default only `config.json` is deployed */
  readonly assetsPath?: string;
  /** Custom host name of the console. @default the `*.cloudfront.net` name */
  readonly domainName?: string;
  /** Certificate (us-east-1) for `domainName`. */
  readonly certificate?: acm.ICertificate;
  /** Zone in which to create the alias record for `domainName` (and validate a new certificate). */
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
  /** `https://…` origin of the console, for CORS and the WebSocket origin check. */
  public readonly origin: string;
  public readonly responseHeaders: cloudfront.ResponseHeadersPolicy;

  constructor(scope: Construct, id: string, props: ConsoleSiteProps) {
    super(scope, id);
    if (props.apiBaseUrl === undefined && props.apiThroughCloudFront === undefined) {
      throw new Error(
        'ConsoleSite: give apiBaseUrl (API on its own domain) or apiThroughCloudFront (API behind this distribution)',
      );
    }
    if (props.domainName && !props.certificate && !props.hostedZone) {
      throw new Error(
        `ConsoleSite: domainName ${props.domainName} needs a certificate or a hosted zone to validate one`,
      );
    }
    if (props.apiBaseUrl !== undefined && !/^https:\/\//.test(props.apiBaseUrl)) {
      throw new Error(
        `ConsoleSite: apiBaseUrl must be https:// (a https console cannot call plain http), got ${props.apiBaseUrl}`,
      );
    }

    this.bucket = new s3.Bucket(this, 'Bucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      // The contents are rebuilt by every deploy.
      removalPolicy: RemovalPolicy.RETAIN,
    });

    const apiHost = props.apiBaseUrl?.replace(/^https:\/\//, '').replace(/\/.*$/, '');
    const connectSrc = apiHost ? `'self' https://${apiHost} wss://${apiHost}` : `'self'`;
    const mediaSrc = apiHost ? `'self' blob: https://${apiHost}` : `'self' blob:`;
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
    if (props.apiThroughCloudFront) {
      const apiOrigin = new origins.HttpOrigin(props.apiThroughCloudFront, {
        protocolPolicy: cloudfront.OriginProtocolPolicy.HTTP_ONLY,
        readTimeout: Duration.seconds(60),
        keepaliveTimeout: Duration.seconds(60),
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
    }

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
      },
      additionalBehaviors,
      // Client-side routes: unknown paths load the app, which renders its own "not found".
      errorResponses: [403, 404].map((httpStatus) => ({
        httpStatus,
        responseHttpStatus: 200,
        responsePagePath: '/index.html',
        ttl: Duration.seconds(10),
      })),
      priceClass: cloudfront.PriceClass.PRICE_CLASS_100,
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      // Only a custom certificate can choose its TLS policy; the *.cloudfront.net one is fixed.
      minimumProtocolVersion: props.domainName ? cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021 : undefined,
      domainNames: props.domainName ? [props.domainName] : undefined,
      certificate: props.domainName
        ? (props.certificate ?? this.newCertificate(props.domainName, props.hostedZone))
        : undefined,
      webAclId,
    });
    this.origin = `https://${props.domainName ?? this.distribution.distributionDomainName}`;

    if (props.domainName && props.hostedZone) {
      new route53.ARecord(this, 'Alias', {
        zone: props.hostedZone,
        recordName: props.domainName,
        target: route53.RecordTarget.fromAlias(new r53targets.CloudFrontTarget(this.distribution)),
      });
    }

    const sources = [
      ...(props.assetsPath ? [s3deploy.Source.asset(props.assetsPath, { exclude: ['config.json'] })] : []),
      // Same build everywhere: the console reads its API location at run time (its own origin when the API is routed here).
      s3deploy.Source.jsonData('config.json', { apiBaseUrl: props.apiBaseUrl ?? this.origin }),
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

  private newCertificate(domainName: string, zone: route53.IHostedZone | undefined): acm.ICertificate {
    if (!zone) throw new Error(`ConsoleSite: no certificate and no hosted zone for ${domainName}`);
    // Only valid when this stack is in us-east-1; the configuration rejects other regions without a certificate ARN.
    return new acm.Certificate(this, 'Certificate', {
      domainName,
      validation: acm.CertificateValidation.fromDns(zone),
    });
  }
}
