/**
 * The Amazon Linux 2023 (arm64) images the proxy/NAT instance boots from, pinned by name: an AMI name is unique
 * for its owner (Amazon) and the same in every region, and the stack turns it into that region's image id when
 * the name changes (never on an ordinary deploy). Changing a pin replaces the instance, so it is its own commit.
 *
 * Update (needs AWS credentials; docs/deploy.md "Moving the proxy to a new image"): the newest names are
 *   aws ec2 describe-images --region us-east-1 --owners amazon \
 *     --filters 'Name=name,Values=al2023-ami-2023.*-arm64' --query 'sort_by(Images,&CreationDate)[-1].Name'
 *   aws ec2 describe-images --region us-east-1 --owners amazon \
 *     --filters 'Name=name,Values=al2023-ami-minimal-2023.*-arm64' --query 'sort_by(Images,&CreationDate)[-1].Name'
 * Put them below (or set `instance.ami`), commit, deploy: that deploy replaces the instance once.
 * Between pins the running instance still gets every package update: see infra/proxy/earshot-patch.sh.
 */
export const AMI_PINS = {
  /** When the pins were last read from AWS; "unconfirmed" until someone has run the commands above against an account. */
  pinnedOn: 'unconfirmed (names from AL2023 release 2023.12.20260918.0)',
  /** The standard image (8 GiB root snapshot): the default profile. */
  standard: 'al2023-ami-2023.12.20260918.0-kernel-6.18-arm64',
  /** The minimal image (2 GiB root snapshot, no SSM agent, no AWS CLI): the lean profile. */
  minimal: 'al2023-ami-minimal-2023.12.20260918.0-kernel-6.18-arm64',
} as const;
