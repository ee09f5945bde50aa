#!/usr/bin/env bash
# earshot-nat: makes this instance the NAT of the private subnet (the EC2 side needs source/dest check off).
# Idempotent: earshot-nat.service runs it at every boot, before nginx. Settings from the environment:
#   EARSHOT_NAT_SOURCE_CIDR  the private subnet: only its traffic is forwarded and masqueraded (required)
#   EARSHOT_NAT_INTERFACE    outgoing interface (default: the one of the default route, from `ip route`;
#                            `route` may be missing on Amazon Linux 2023)
#   EARSHOT_SYSCTL_FILE      where the settings are persisted (default /etc/sysctl.d/90-earshot-nat.conf; "none": skip)
# Order matters: the MASQUERADE rule is in place and checked before forwarding is switched on, so there is no
# moment in which the instance forwards private addresses to the internet gateway untranslated (it drops them).
set -euo pipefail

log() { printf 'earshot-nat: %s\n' "$*" >&2; }

cidr="${EARSHOT_NAT_SOURCE_CIDR:?EARSHOT_NAT_SOURCE_CIDR (the private subnet) is required}"
if [[ ! "$cidr" =~ ^([0-9]{1,3}\.){3}[0-9]{1,3}/([0-9]|[12][0-9]|3[0-2])$ ]] || [[ "$cidr" == */0 ]]; then
  log "EARSHOT_NAT_SOURCE_CIDR must be one subnet such as 10.20.1.0/24, got \"$cidr\""
  exit 1
fi
iface="${EARSHOT_NAT_INTERFACE:-}"
if [[ -z "$iface" ]]; then
  iface="$(ip -4 route show default | awk '{ for (i = 1; i < NF; i++) if ($i == "dev") { print $(i + 1); exit } }')"
fi
if [[ -z "$iface" ]]; then
  log "no default route: cannot tell the outgoing interface (set EARSHOT_NAT_INTERFACE)"
  exit 1
fi

# The instance's own firewall stays open (the security group is the firewall). FORWARD lets out only the private
# subnet, and lets in only replies.
iptables -P INPUT ACCEPT
iptables -F INPUT
iptables -P FORWARD DROP
iptables -F FORWARD
iptables -A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
iptables -A FORWARD -s "$cidr" -o "$iface" -j ACCEPT
iptables -t nat -F POSTROUTING
iptables -t nat -A POSTROUTING -s "$cidr" -o "$iface" -j MASQUERADE
if ! iptables -t nat -C POSTROUTING -s "$cidr" -o "$iface" -j MASQUERADE ||
  ! iptables -C FORWARD -s "$cidr" -o "$iface" -j ACCEPT; then
  log "the NAT rules did not take: forwarding stays off"
  exit 1
fi

# Packets come in and leave through the same interface, which makes the kernel tell the tasks (by ICMP redirect)
# to send them to the gateway directly; that route does not work for private addresses. No redirects, either way.
settings=(
  "net.ipv4.conf.all.send_redirects=0"
  "net.ipv4.conf.default.send_redirects=0"
  "net.ipv4.conf.${iface}.send_redirects=0"
  "net.ipv4.conf.all.accept_redirects=0"
  "net.ipv4.conf.default.accept_redirects=0"
  "net.ipv4.ip_forward=1"
)
sysctl_file="${EARSHOT_SYSCTL_FILE:-/etc/sysctl.d/90-earshot-nat.conf}"
if [[ "$sysctl_file" != "none" ]]; then
  printf '%s\n' "${settings[@]/=/ = }" >"$sysctl_file"
fi
for setting in "${settings[@]}"; do sysctl -q -w "$setting"; done
log "forwarding ${cidr} out of ${iface} with MASQUERADE; ICMP redirects off"
