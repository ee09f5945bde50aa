import { describe, expect, it } from 'vitest';
import { contextFromArgs, loadConfig } from '../bin/load-config.js';
import { ConfigError, mergeConfig, parseConfig, taskResources, taskSizeOf } from '../src/config.js';
import { activeHoursPerDay, computeScheduleTimes, cronDays, shiftWeeklyTime } from '../src/schedule-times.js';

const domain = { apiDomain: 'api.example.com', hostedZoneId: 'Z0123456789AB', hostedZoneName: 'example.com' };

describe('deployment configuration', () => {
  it('defaults follow the seed: 08:00-20:00 weekdays, 0.5 vCPU / 1 GB, on-demand t4g, no WAF, no signed URLs', () => {
    const c = parseConfig({ trial: true });
    expect(c.schedule).toMatchObject({
      start: '08:00',
      end: '20:00',
      days: ['MON', 'TUE', 'WED', 'THU', 'FRI'],
    });
    expect(c.profile).toBe('default');
    expect(taskSizeOf(c)).toBe('0.5vCPU-1GB');
    expect(c.task.maxTasks).toBe(2);
    expect(c.task.imageTag).toBeUndefined();
    expect(c.instance.spot).toBeUndefined();
    expect(c.schedule.patch).toEqual({ day: 'SUN', start: '03:00', minutes: 60 });
    expect(c.cloudFront).toMatchObject({ waf: false, signedUrls: false });
    expect(c.data.audioExpirationDays).toBe(90);
    expect(c.domain).toBeUndefined();
  });

  it('lean sizes the task 0.25 vCPU / 0.5 GB; a domain gets its origin name', () => {
    const c = parseConfig({ profile: 'lean', domain });
    expect(taskResources(c)).toEqual({ cpu: 256, memoryMiB: 512 });
    expect(c.domain?.originDomain).toBe('origin.api.example.com');
  });

  it.each([
    [{}, 'no domain: a production deployment needs domain.apiDomain'],
    [{ trial: true, profile: 'lean' }, 'the lean profile needs domain.apiDomain, domain.hostedZoneId'],
    [
      { domain: { apiDomain: 'api.example.com', certificateArn: undefined } },
      'a domain without a hosted zone needs certificateArn',
    ],
    [{ domain: { ...domain, apiDomain: 'api.other.org' } }, 'is not inside the hosted zone example.com'],
    [{ domain: { ...domain, consoleDomain: 'api.example.com' } }, 'must be three different names'],
    [{ trial: true, instance: { spot: true } }, 'Spot is no longer offered'],
    [
      { trial: true, instance: { ami: 'resolve:ssm:/aws/service/ami-amazon-linux-latest/x' } },
      'instance.ami',
    ],
    [{ trial: true, task: { imageTag: 'latest' } }, '"latest" is mutable'],
    [{ trial: true, task: { maxTasks: 9 } }, 'answers with at most 8'],
    [
      { trial: true, schedule: { patch: { day: 'MON', start: '12:00' } } },
      'overlaps the hours the proxy runs',
    ],
    [{ schedule: { start: '8:00' } }, 'schedule.start'],
    [{ trial: true, schedule: { start: '18:00', end: '09:00' } }, 'end (09:00) must be after start (18:00)'],
    [{ schedule: { days: [] } }, 'needs at least one day'],
    [{ schedule: { days: ['MON', 'MON'] } }, 'days lists a day twice'],
    [{ schedule: { instanceLeadMinutes: 0 } }, 'schedule.instanceLeadMinutes'],
    [{ task: { size: '1vCPU-2GB' } }, 'task.size'],
    [{ task: { maxTasks: 0 } }, 'task.maxTasks'],
    [{ region: 'Frankfurt' }, 'must be an AWS region'],
    [{ alerts: { email: 'not-an-address' } }, 'alerts.email: must be an e-mail address'],
    [{ domain: { apiDomain: 'API.Example.com' } }, 'domain.apiDomain'],
    [
      { domain: { apiDomain: 'api.example.com', hostedZoneId: 'Z123456789' } },
      'hostedZoneId and hostedZoneName go together',
    ],
    [
      {
        region: 'eu-central-1',
        domain: {
          apiDomain: 'a.example.com',
          consoleDomain: 'c.example.com',
          hostedZoneId: 'Z0123456789AB',
          hostedZoneName: 'example.com',
        },
      },
      'CloudFront certificates must live in us-east-1',
    ],
    [
      { region: 'eu-central-1', cloudFront: { waf: true } },
      'CLOUDFRONT web ACL must be created in us-east-1',
    ],
    [{ cloudFront: { signedUrls: true } }, 'signedUrls needs signedUrlsPublicKeyPem'],
    [{ github: { repository: 'not a repo' } }, 'must be "owner/repo"'],
    [{ unknownKey: 1 }, 'Unrecognized key'],
  ])('rejects %j with a message naming the problem', (raw, message) => {
    expect(() => parseConfig(raw)).toThrow(ConfigError);
    expect(() => parseConfig(raw)).toThrow(message);
  });

  it('lean may scale to 10 tasks (it asks the ECS API, not Cloud Map DNS)', () => {
    expect(parseConfig({ profile: 'lean', domain, task: { maxTasks: 10 } }).task.maxTasks).toBe(10);
  });

  it('reads -c key=value arguments as the CDK CLI does', () => {
    expect(
      contextFromArgs([
        '-c',
        'profile=lean',
        '--context',
        'stackName=EarshotB',
        '--context=imageTag=abc',
        'x',
      ]),
    ).toEqual({ profile: 'lean', stackName: 'EarshotB', imageTag: 'abc' });
    expect(() => contextFromArgs(['-c', 'nokey'])).toThrow('key=value');
    const ctx = { earshot: { trial: true }, profile: 'lean', stackName: 'EarshotB' } as Record<
      string,
      unknown
    >;
    expect(() => loadConfig((k) => ctx[k])).toThrow('the lean profile needs');
    ctx.earshot = { domain };
    expect(loadConfig((k) => ctx[k])).toMatchObject({ profile: 'lean', stackName: 'EarshotB' });
  });

  it('layers context and files: objects merge, scalars and arrays replace', () => {
    const merged = mergeConfig(
      { schedule: { start: '07:00', days: ['MON'] }, task: { maxTasks: 3 } },
      { schedule: { days: ['TUE', 'WED'] } },
    );
    expect(merged).toEqual({ schedule: { start: '07:00', days: ['TUE', 'WED'] }, task: { maxTasks: 3 } });
  });
});

describe('schedule times', () => {
  it('starts the instance lead minutes before the tasks and stops it lag minutes after', () => {
    const t = computeScheduleTimes({
      start: '08:00',
      end: '20:00',
      days: ['MON', 'FRI'],
      instanceLeadMinutes: 10,
      instanceLagMinutes: 15,
    });
    expect(t.instanceStart).toEqual({ hour: 7, minute: 50, days: ['MON', 'FRI'] });
    expect(t.tasksUp).toEqual({ hour: 8, minute: 0, days: ['MON', 'FRI'] });
    expect(t.tasksDown).toEqual({ hour: 20, minute: 0, days: ['MON', 'FRI'] });
    expect(t.instanceStop).toEqual({ hour: 20, minute: 15, days: ['MON', 'FRI'] });
  });

  it('moves the days along when a shift crosses midnight', () => {
    expect(shiftWeeklyTime(5, ['MON', 'SUN'], -10)).toEqual({ hour: 23, minute: 55, days: ['SUN', 'SAT'] });
    expect(shiftWeeklyTime(23 * 60 + 55, ['SAT'], 15)).toEqual({ hour: 0, minute: 10, days: ['SUN'] });
  });

  it('writes every-day schedules without a day list', () => {
    expect(cronDays(['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'])).toBeUndefined();
    expect(cronDays(['MON', 'WED'])).toBe('MON,WED');
    expect(activeHoursPerDay('09:00', '18:00')).toBe(9);
  });
});
