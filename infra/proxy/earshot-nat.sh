#!/usr/bin/env bash
# earshot-nat: makes this instance the private subnet's NAT (the EC2 side needs source/dest check off).
# Idempotent: safe to run at every boot. Settings from the environment:
#   EARSHOT_NAT_SOURCE_CIDR  only traffic from this CIDR is forwarded and masqueraded (default: any)
#   EARSHOT_NAT_INTERFACE    outgoing interface (default: the one of the default route, from `ip route`;
#                            `route` is not installed on Amazon Linux 2023)
#   EARSHOT_SYSCTL_FILE      where forwarding is persisted (default /etc/sysctl.d/90-earshot-nat.conf; "none": skip)
#   EARSHOT_IPTABLES_SAVE    "service" saves the rules for iptables-services (default), "none" does not
set -euo pipefail

log() { printf 'earshot-nat: %s\n' "$*" >&2; }

iface="${EARSHOT_NAT_INTERFACE:-}"
if [[ -z "$iface" ]]; then
  iface="$(ip -4 route show default | awk '{ for (i = 1; i < NF; i++) if ($i == "dev") { print $(i + 1); exit } }')"
fi
if [[ -z "$iface" ]]; then
  log "no default route: cannot tell the outgoing interface (set EARSHOT_NAT_INTERFACE)"
  exit 1
fi
cidr="${EARSHOT_NAT_SOURCE_CIDR:-0.0.0.0/0}"

sysctl_file="${EARSHOT_SYSCTL_FILE:-/etc/sysctl.d/90-earshot-nat.conf}"
if [[ "$sysctl_file" != "none" ]]; then
  printf 'net.ipv4.ip_forward = 1\n' >"$sysctl_file"
fi
sysctl -q -w net.ipv4.ip_forward=1

# The instance's own firewall stays open (the security group is the firewall); the iptables-services default
# INPUT and FORWARD chains end in REJECT, which would block nginx and every forwarded packet.
iptables -P INPUT ACCEPT
iptables -F INPUT
iptables -P FORWARD DROP
iptables -F FORWARD
iptables -A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
iptables -A FORWARD -o "$iface" -s "$cidr" -j ACCEPT
iptables -t nat -F POSTROUTING
iptables -t nat -A POSTROUTING -o "$iface" -s "$cidr" -j MASQUERADE
log "forwarding ${cidr} out of ${iface} with MASQUERADE"

if [[ "${EARSHOT_IPTABLES_SAVE:-service}" == "service" ]]; then
  iptables-save >/etc/sysconfig/iptables
fi
