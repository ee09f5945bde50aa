import { Stack } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { describe, expect, it } from 'vitest';
import { buildEarshotApp } from '../src/app.js';
import { parseConfig, type EarshotConfigInput } from '../src/config.js';
import { acknowledge, findNagViolations, formatFindings } from '../src/nag.js';
import { testApp } from './support/test-app.js';

const domain = {
  apiDomain: 'api.example.com',
  hostedZoneId: 'Z0123456789ABC',
  hostedZoneName: 'example.com',
};
const variants: [string, EarshotConfigInput][] = [
  ['production (a domain with a hosted zone)', { domain }],
  ['the lean profile', { domain, profile: 'lean' }],
  ['a trial (no domain)', { trial: true }],
  [
    'every option on',
    {
      domain: {
        apiDomain: 'api.example.com',
        consoleDomain: 'console.example.com',
        hostedZoneId: 'Z0123456789ABC',
        hostedZoneName: 'example.com',
      },
      github: { repository: 'acme/earshot' },
      cloudFront: {
        waf: true,
        signedUrls: true,
        signedUrlsPublicKeyPem: '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----',
      },
      alerts: { email: 'ops@example.com' },
    },
  ],
];

describe('cdk-nag AwsSolutions', () => {
  it.each(variants)('has no unacknowledged finding with %s', (_name, raw) => {
    const { app } = buildEarshotApp(parseConfig(raw), { app: testApp() });
    app.synth();
    const findings = findNagViolations(app);
    expect(formatFindings(findings.filter((f) => f.severity === 'error'))).toBe('');
    expect(formatFindings(findings)).toBe('');
  });

  it('still reports what is not acknowledged (the check can fail)', () => {
    const app = testApp();
    const stack = new Stack(app, 'Probe');
    const bucket = new s3.Bucket(stack, 'Open');
    const findings = findNagViolations(app);
    expect(findings.map((f) => f.rule)).toEqual(
      expect.arrayContaining(['AwsSolutions-S1', 'AwsSolutions-S10']),
    );
    acknowledge(bucket, 'AwsSolutions-S1', 'a probe bucket that only exists in this test');
    expect(findNagViolations(app).map((f) => f.rule)).not.toContain('AwsSolutions-S1');
  });

  it('refuses an acknowledgement without a real reason', () => {
    const stack = new Stack(testApp(), 'Probe');
    expect(() => acknowledge(stack, 'AwsSolutions-S1', 'because')).toThrow('needs a real reason');
  });
});
