import { createHash } from 'node:crypto';
import { AMI_PINS } from './ami-pins.js';
import type { EarshotConfig, ProfileName } from './config.js';

/** What a profile decides beyond its defaults: how the system is built, not just how big it is. */
export interface ProfileSettings {
  /** A fixed address (Elastic IP, billed all month) vs the one assigned at each start, pointed to by DNS at boot. */
  readonly elasticIp: boolean;
  /** Secrets Manager ($0.40/secret-month) vs SSM Parameter Store SecureString (standard tier, free). */
  readonly secretStore: 'secrets-manager' | 'ssm-parameters';
  /** How nginx finds the tasks: a Cloud Map private DNS namespace (a $0.50 zone) vs the ECS API (free). */
  readonly discovery: 'cloud-map-dns' | 'ecs-api';
  /** The AL2023 image flavour, and the root volume it allows (at least its snapshot) with the swap file on it. */
  readonly image: 'standard' | 'minimal';
  readonly rootVolumeGiB: number;
  readonly swapMiB: number;
}

export const PROFILE_SETTINGS: Readonly<Record<ProfileName, ProfileSettings>> = {
  default: {
    elasticIp: true,
    secretStore: 'secrets-manager',
    discovery: 'cloud-map-dns',
    image: 'standard',
    rootVolumeGiB: 8,
    swapMiB: 1024,
  },
  lean: {
    elasticIp: false,
    secretStore: 'ssm-parameters',
    discovery: 'ecs-api',
    image: 'minimal',
    rootVolumeGiB: 4,
    swapMiB: 512,
  },
};

/**
 * The images' root snapshots and what is used on them after the proxy's packages are installed (nginx, certbot,
 * cfn-bootstrap, iptables; the SSM agent on the minimal one), in GiB: what the volume must hold besides the swap file
 * and room for a release upgrade's downloads.
 */
export const IMAGE_DISK_GIB: Readonly<Record<ProfileSettings['image'], { snapshot: number; used: number }>> =
  {
    standard: { snapshot: 8, used: 2.2 },
    minimal: { snapshot: 2, used: 1.7 },
  };
/** Room `dnf upgrade --releasever=latest` needs for its downloads and transaction (a quarterly release). */
export const UPGRADE_ROOM_GIB = 1;

export function profileOf(config: EarshotConfig): ProfileSettings {
  return PROFILE_SETTINGS[config.profile];
}

/** The image the proxy boots: the configured one, else the pin for the profile's flavour. */
export function imageOf(config: EarshotConfig): string {
  return config.instance.ami ?? AMI_PINS[profileOf(config).image];
}

/**
 * A lower-case name derived from the stack name, for names that must be DNS labels: the stack name (unique per
 * account and region, case included) plus a hash of it, so `EarshotA` and `earshota` still differ.
 */
export function physicalSlug(stackName: string): string {
  const hash = createHash('sha256').update(stackName).digest('hex').slice(0, 6);
  return `${stackName.toLowerCase()}-${hash}`;
}
