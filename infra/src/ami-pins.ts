/**
 * The Amazon Linux 2023 (arm64) images the proxy/NAT instance boots from, pinned by name: an AMI name is unique
 * for its owner (Amazon) and the same in every region, and the stack turns it into that region's image id when
 * the name changes (never on an ordinary deploy). Changing a pin replaces the instance, so it is its own commit.
 *
 * Update: `npm run pin-ami` (needs AWS credentials) reads the current images from AWS's public parameters
 * `/aws/service/ami-amazon-linux-latest/al2023-ami{,-minimal}-kernel-default-arm64` and rewrites this file.
 * Between pins the running instance still gets every package update: see infra/proxy/earshot-patch.sh.
 */
export const AMI_PINS = {
  /** When the pins were last read from AWS; "unconfirmed" until `npm run pin-ami` has run against an account. */
  pinnedOn: 'unconfirmed (names from AL2023 release 2023.12.20260918.0)',
  /** The standard image (8 GiB root snapshot): the default profile. */
  standard: 'al2023-ami-2023.12.20260918.0-kernel-6.18-arm64',
  /** The minimal image (2 GiB root snapshot, no SSM agent, no AWS CLI): the lean profile. */
  minimal: 'al2023-ami-minimal-2023.12.20260918.0-kernel-6.18-arm64',
} as const;
