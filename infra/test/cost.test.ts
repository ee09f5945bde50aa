import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_USAGE, WEEKS_PER_MONTH, computeCost, type CostReport } from '../src/cost/model.js';
import { parsePriceTable, regionPricesOf, type PriceTable } from '../src/cost/prices.js';
import { toJson } from '../src/cost/format.js';
import { costOf, seedScenarioConfig } from '../src/cost/scenarios.js';
import { extractFacts, parseCron, windowBetween, type TemplateFacts } from '../src/cost/template-facts.js';

const infraDir = resolve(import.meta.dirname, '..');
const table: PriceTable = parsePriceTable(
  JSON.parse(readFileSync(resolve(infraDir, 'cost/prices.json'), 'utf8')),
);
const us = regionPricesOf(table, 'us-east-1');

let seed: CostReport;
let lean: CostReport;
beforeAll(() => {
  seed = costOf(seedScenarioConfig('default'), table);
  lean = costOf(seedScenarioConfig('lean'), table);
});

const line = (r: CostReport, c: string) => {
  const l = r.lines.find((x) => x.component === c);
  if (!l) throw new Error(`no line ${c}`);
  return l.monthlyUsd;
};

describe('seed scenario (100 calls/day, 09:00-18:00 every day, 0.5 vCPU/1 GB ARM, t4g.nano, us-east-1)', () => {
  // Worked by hand: 9 h a day, 7 days a week, 365.25/12 days a month.
  const days = 7 * WEEKS_PER_MONTH; // 30.4375
  it('prices Fargate at 9 h x 30.44 d x (0.5 x vCPU-h + 1 x GB-h) on ARM', () => {
    const expected = 9 * days * (0.5 * us.fargateArmVcpuHour.value + 1 * us.fargateArmGbHour.value);
    expect(line(seed, 'Fargate')).toBeCloseTo(expected, 6);
    expect(line(seed, 'Fargate')).toBeCloseTo(5.41, 2);
  });

  it('runs the instance from 10 min before to 15 min after the tasks (9 h 25 min a day) and 1 h a week to patch', () => {
    expect(line(seed, 'EC2 proxy/NAT')).toBeCloseTo(
      ((9 + 25 / 60) * days + WEEKS_PER_MONTH) * (us.ec2Hour['t4g.nano']?.value ?? NaN),
      6,
    );
    expect(seed.instanceHoursPerMonth).toBeCloseTo(291.0, 1);
  });

  it('adds what the seed left out: IPv4 all month, EBS while stopped, secrets, the Cloud Map zone', () => {
    expect(line(seed, 'Public IPv4')).toBeCloseTo(730 * 0.005, 6);
    expect(line(seed, 'EBS root volume')).toBeCloseTo(8 * us.ebsGp3GbMonth.value, 6);
    expect(line(seed, 'Secrets Manager')).toBeCloseTo(2 * us.secretMonth.value, 2);
    expect(line(seed, 'Route 53 (Cloud Map zone)')).toBe(us.route53ZoneMonth.value);
    expect(line(seed, 'ECR')).toBeCloseTo(5 * 0.15 * us.ecrGbMonth.value, 6);
  });

  it('keeps CloudWatch inside the free tier (4 metrics, 6 + 2 alarms, 1 dashboard, ~19 MB logs)', () => {
    expect(line(seed, 'CloudWatch metrics/alarms')).toBe(0);
    expect(line(seed, 'CloudWatch logs')).toBeLessThan(0.01);
  });

  it('prices the store: audio in S3 for 90 days, the DynamoDB table on demand with point-in-time recovery', () => {
    const calls = 100 * days;
    const kept = 90 / (365.25 / 12);
    // What the server really writes: 13 s of pcm_24000 (24 kHz, 16-bit mono) = 624 KB a call.
    const audio =
      ((calls * 13 * 48_000 * kept) / 1e9) * us.s3StandardGbMonth.value + (calls * (0.005 + 0.0004)) / 1000;
    expect(line(seed, 'S3 audio')).toBeCloseTo(audio, 6);
    // 6 write and 6 read units per speak; ~2 KB of table per history item, within the free 25 GB, so only the
    // backups are billed by size.
    const table =
      (calls * 6 * us.dynamoWriteMillion.value + calls * 6 * us.dynamoReadMillion.value) / 1e6 +
      ((calls * 2 * kept) / 1e6) * us.dynamoPitrGbMonth.value;
    expect(line(seed, 'DynamoDB store')).toBeCloseTo(table, 6);
    expect(line(seed, 'DynamoDB store')).toBeLessThan(0.05);
  });

  it('totals $13.00 a month against the seed\'s "~$9-12"', () => {
    expect(seed.totalUsd).toBeCloseTo(13.0, 2);
  });

  it('shows the what-ifs: x86 costs more, a NAT Gateway far more', () => {
    const x86 =
      seed.comparisons.find((c) => c.component === 'Fargate on x86 instead of ARM')?.monthlyUsd ?? 0;
    expect(x86).toBeCloseTo(9 * days * (0.5 * us.fargateX86VcpuHour.value + us.fargateX86GbHour.value), 6);
    expect(
      seed.comparisons.find((c) => c.component === 'NAT Gateway instead of the instance')?.monthlyUsd,
    ).toBeCloseTo(730 * 0.045 + 0.1 * 0.045, 6);
  });
});

describe('seed scenario under the lean profile', () => {
  it('totals at most $7.00 with every line priced: IPv4 while running, EBS, the domain zone, S3, ECR, CloudWatch', () => {
    expect(lean.totalUsd).toBeLessThanOrEqual(7);
    expect(lean.totalUsd).toBeCloseTo(6.48, 2);
    for (const item of [
      'Fargate',
      'EC2 proxy/NAT',
      'Public IPv4',
      'EBS root volume',
      'Route 53 (domain zone)',
      'S3 audio',
      'DynamoDB store',
      'ECR',
      'CloudWatch logs',
      'CloudWatch metrics/alarms',
      'SSM Parameter Store',
    ]) {
      expect(Number.isFinite(line(lean, item)), item).toBe(true);
    }
    // The auto-assigned address is billed only while the instance runs, not 730 h.
    expect(line(lean, 'Public IPv4')).toBeCloseTo(lean.instanceHoursPerMonth * us.publicIpv4Hour.value, 6);
    expect(line(lean, 'Fargate')).toBeCloseTo(line(seed, 'Fargate') / 2, 6);
    expect(line(lean, 'EBS root volume')).toBeCloseTo(4 * us.ebsGp3GbMonth.value, 6);
    expect(line(lean, 'Route 53 (domain zone)')).toBeGreaterThanOrEqual(us.route53ZoneMonth.value);
    expect(lean.lines.map((l) => l.component)).not.toContain('Secrets Manager');
  });

  it('prints both profiles in the --json contract', () => {
    const json = JSON.parse(
      toJson([
        { id: 'seed', profile: 'default', report: seed },
        { id: 'seed', profile: 'lean', report: lean },
      ]),
    ) as {
      scenarios: {
        id: string;
        profile: string;
        monthlyUsd: number;
        lines: { item: string; monthlyUsd: number }[];
      }[];
    };
    expect(json.scenarios.map((s) => [s.id, s.profile])).toEqual([
      ['seed', 'default'],
      ['seed', 'lean'],
    ]);
    const leanJson = json.scenarios[1]!;
    expect(leanJson.monthlyUsd).toBeLessThanOrEqual(7);
    expect(Object.keys(leanJson.lines[0]!).sort()).toEqual(['item', 'monthlyUsd']);
    const sum = leanJson.lines.reduce((total, l) => total + l.monthlyUsd, 0);
    expect(sum).toBeCloseTo(leanJson.monthlyUsd, 1);
  });
});

describe('reading templates', () => {
  it('parses AWS cron day lists, ranges and wildcards', () => {
    expect(parseCron('cron(50 7 ? * MON,TUE,WED,THU,FRI *)')).toEqual({
      minuteOfDay: 470,
      days: ['MON', 'TUE', 'WED', 'THU', 'FRI'],
    });
    expect(parseCron('cron(0 9 ? * MON-FRI *)').days).toEqual(['MON', 'TUE', 'WED', 'THU', 'FRI']);
    expect(parseCron('cron(0 9 * * ? *)').days).toHaveLength(7);
    expect(windowBetween('cron(0 22 ? * MON *)', 'cron(0 2 ? * TUE *)').minutesPerDay).toBe(240);
    expect(() => parseCron('rate(5 minutes)')).toThrow('Not a cron()');
  });

  it('prices what a template declares: Spot instance, x86 task, no schedule = 730 h, a NAT Gateway', () => {
    const facts: TemplateFacts = extractFacts([
      {
        Resources: {
          I: {
            Type: 'AWS::EC2::Instance',
            Properties: { InstanceType: 't4g.nano', BlockDeviceMappings: [{ Ebs: { VolumeSize: 10 } }] },
          },
          L: {
            Type: 'AWS::EC2::LaunchTemplate',
            Properties: { LaunchTemplateData: { InstanceMarketOptions: { MarketType: 'spot' } } },
          },
          T: {
            Type: 'AWS::ECS::TaskDefinition',
            Properties: { Cpu: '256', Memory: '512', RuntimePlatform: { CpuArchitecture: 'X86_64' } },
          },
          N: { Type: 'AWS::EC2::NatGateway', Properties: {} },
        },
      },
    ]);
    expect(facts.instances).toEqual([{ type: 't4g.nano', spot: true, rootGiB: 10 }]);
    expect(facts.task).toEqual({ vcpu: 0.25, memoryGb: 0.5, arch: 'X86_64' });
    const report = computeCost(facts, us, DEFAULT_USAGE);
    expect(report.taskHoursPerMonth).toBe(730);
    expect(line(report, 'EC2 proxy/NAT')).toBeCloseTo(730 * (us.ec2SpotHour['t4g.nano']?.value ?? NaN), 6);
    expect(line(report, 'Fargate')).toBeCloseTo(
      730 * (0.25 * us.fargateX86VcpuHour.value + 0.5 * us.fargateX86GbHour.value),
      6,
    );
    expect(line(report, 'NAT Gateway')).toBeCloseTo(730 * us.natGatewayHour.value, 6);
    expect(line(report, 'Public IPv4')).toBe(0);
  });

  it('refuses a template without a task and an instance type without a price', () => {
    expect(() => computeCost(extractFacts([{ Resources: {} }]), us, DEFAULT_USAGE)).toThrow(
      'no ECS task definition',
    );
    const facts = extractFacts([
      {
        Resources: {
          I: { Type: 'AWS::EC2::Instance', Properties: { InstanceType: 'x9.huge' } },
          T: { Type: 'AWS::ECS::TaskDefinition', Properties: { Cpu: '256', Memory: '512' } },
        },
      },
    ]);
    expect(() => computeCost(facts, us, DEFAULT_USAGE)).toThrow('No on-demand price for x9.huge');
  });

  it('keeps every price dated and sourced, and knows both regions', () => {
    expect(table.retrieved).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(Object.keys(table.regions).sort()).toEqual(['eu-central-1', 'us-east-1']);
    expect(() => regionPricesOf(table, 'ap-south-1')).toThrow('No prices for ap-south-1');
    expect(() => parsePriceTable({ retrieved: 'mid-2026', currency: 'USD', regions: {} })).toThrow(
      'Invalid price table',
    );
  });
});
