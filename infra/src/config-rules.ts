/**
 * Rules that span several fields of the deployment configuration, each with a message that says what to do.
 * Kept apart from the schema (config.ts) so the schema reads as the list of settings.
 */
import type { WeekDay } from './config.js';

const WEEK = 7 * 24 * 60;
const DAY_INDEX: Record<WeekDay, number> = { SUN: 0, MON: 1, TUE: 2, WED: 3, THU: 4, FRI: 5, SAT: 6 };

function minutes(hhmm: string): number {
  const [h = 0, m = 0] = hhmm.split(':').map(Number);
  return h * 60 + m;
}

/** Half-open intervals of the week, in minutes since Sunday 00:00, split where they wrap past Saturday. */
function weekly(day: WeekDay, from: number, to: number): [number, number][] {
  const a = DAY_INDEX[day] * 24 * 60 + from;
  const b = DAY_INDEX[day] * 24 * 60 + to;
  const start = ((a % WEEK) + WEEK) % WEEK;
  const end = start + (b - a);
  return end <= WEEK
    ? [[start, end]]
    : [
        [start, WEEK],
        [0, end - WEEK],
      ];
}

interface ScheduleLike {
  readonly start: string;
  readonly end: string;
  readonly days: readonly WeekDay[];
  readonly instanceLeadMinutes: number;
  readonly instanceLagMinutes: number;
  readonly patch: { readonly day: WeekDay; readonly start: string; readonly minutes: number };
}

/** Why the patch window would touch the hours the instance runs anyway (it must be off-hours), or undefined. */
export function patchOverlapsActiveHours(s: ScheduleLike): string | undefined {
  const running = s.days.flatMap((day) =>
    weekly(day, minutes(s.start) - s.instanceLeadMinutes, minutes(s.end) + s.instanceLagMinutes),
  );
  const patch = weekly(s.patch.day, minutes(s.patch.start), minutes(s.patch.start) + s.patch.minutes);
  const overlaps = patch.some(([ps, pe]) => running.some(([rs, re]) => ps < re && rs < pe));
  return overlaps
    ? `the patch window (${s.patch.day} ${s.patch.start}, ${s.patch.minutes} min) overlaps the hours the proxy ` +
        `runs for the tasks (${s.start}-${s.end} plus ${s.instanceLeadMinutes} min before and ` +
        `${s.instanceLagMinutes} min after): move it into the off-hours`
    : undefined;
}

interface ConfigLike {
  readonly profile: 'default' | 'lean';
  readonly trial: boolean;
  readonly region: string;
  readonly domain?: {
    readonly hostedZoneId?: string;
    readonly certificateArn?: string;
  };
  readonly task: { readonly maxTasks: number };
  readonly cloudFront: {
    readonly waf: boolean;
    readonly webAclArn?: string;
    readonly signedUrls: boolean;
    readonly signedUrlsPublicKeyPem?: string;
  };
}

export interface Problem {
  readonly path?: string[];
  readonly message: string;
}

/** The most A records a Cloud Map DNS query answers with (multivalue answer routing). */
export const CLOUD_MAP_MAX_ANSWERS = 8;

export function crossFieldProblems(c: ConfigLike): Problem[] {
  const problems: Problem[] = [];
  const d = c.domain;
  if (!d && !c.trial) {
    problems.push({
      message:
        'no domain: a production deployment needs domain.apiDomain with domain.hostedZoneId and ' +
        'domain.hostedZoneName (CloudFront then reaches the proxy over HTTPS). To try Earshot without a domain, ' +
        'set "trial": true — CloudFront then reaches the proxy over plain HTTP, carrying API keys in clear text.',
    });
  }
  if (c.profile === 'lean' && !d?.hostedZoneId) {
    problems.push({
      path: ['profile'],
      message:
        'the lean profile needs domain.apiDomain, domain.hostedZoneId and domain.hostedZoneName: it has no Elastic ' +
        "IP, so the proxy's public address changes at every start, and only a Route 53 record the proxy updates " +
        'at boot can follow it (the zone costs $0.50/month, counted in its price). Add the domain, or use ' +
        '"profile": "default".',
    });
  }
  if (d && !d.certificateArn && c.region !== 'us-east-1') {
    problems.push({
      path: ['domain', 'certificateArn'],
      message: `CloudFront certificates must live in us-east-1; the stack is in ${c.region}: create one there for apiDomain (and consoleDomain) and give its ARN`,
    });
  } else if (d && !d.certificateArn && !d.hostedZoneId) {
    problems.push({
      path: ['domain', 'certificateArn'],
      message:
        'a domain without a hosted zone needs certificateArn: an ACM certificate in us-east-1 for apiDomain (and consoleDomain)',
    });
  }
  if (c.cloudFront.waf && c.region !== 'us-east-1' && !c.cloudFront.webAclArn) {
    problems.push({
      path: ['cloudFront', 'webAclArn'],
      message: `a CLOUDFRONT web ACL must be created in us-east-1; the stack is in ${c.region}: create it there and give webAclArn`,
    });
  }
  if (c.cloudFront.signedUrls && !c.cloudFront.signedUrlsPublicKeyPem) {
    problems.push({
      path: ['cloudFront', 'signedUrlsPublicKeyPem'],
      message: 'signedUrls needs signedUrlsPublicKeyPem',
    });
  }
  if (c.profile === 'default' && c.task.maxTasks > CLOUD_MAP_MAX_ANSWERS) {
    problems.push({
      path: ['task', 'maxTasks'],
      message:
        `the default profile finds its tasks through Cloud Map DNS, which answers with at most ${CLOUD_MAP_MAX_ANSWERS} ` +
        `addresses (a different ${CLOUD_MAP_MAX_ANSWERS} each time): use at most ${CLOUD_MAP_MAX_ANSWERS} tasks, or the ` +
        'lean profile (it asks the ECS API, up to 10)',
    });
  }
  return problems;
}
