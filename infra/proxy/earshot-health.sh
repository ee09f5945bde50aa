#!/usr/bin/env bash
# earshot-health: does this instance do its two jobs? The first boot signals CloudFormation success only when it
# does; until then the stack waits (and the Fargate service, which depends on that signal, does not start).
#   NAT:   forwarding on, the private subnet's MASQUERADE rule in place, the default route present
#   nginx: answers its health check on loopback
# Settings (/etc/earshot/earshot.env): EARSHOT_NAT_SOURCE_CIDR. Tests: EARSHOT_HEALTH_URL.
set -euo pipefail

log() { printf 'earshot-health: %s\n' "$*" >&2; }
cidr="${EARSHOT_NAT_SOURCE_CIDR:?EARSHOT_NAT_SOURCE_CIDR is required}"
url="${EARSHOT_HEALTH_URL:-http://127.0.0.1/nginx-health}"
problems=()

if [[ "$(sysctl -n net.ipv4.ip_forward)" != 1 ]]; then problems+=("IP forwarding is off"); fi
if ! iptables -t nat -S POSTROUTING | grep -q -- "-s ${cidr} .*-j MASQUERADE"; then
  problems+=("no MASQUERADE rule for ${cidr}")
fi
if [[ -z "$(ip -4 route show default)" ]]; then problems+=("no default route"); fi
if ! body="$(curl -fsS --max-time 5 "$url" 2>&1)" || [[ "$body" != *'"status":"ok"'* ]]; then
  problems+=("nginx does not answer ${url}: ${body:-no answer}")
fi

if ((${#problems[@]} > 0)); then
  log "unhealthy: $(IFS=';'; echo "${problems[*]}")"
  exit 1
fi
log "NAT and nginx answer"
