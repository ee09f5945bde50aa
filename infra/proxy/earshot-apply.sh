#!/usr/bin/env bash
# earshot-apply: puts the configuration cfn-init staged into place and restarts only what it changes.
#
# cfn-init writes every file of the instance's CloudFormation metadata under /etc/earshot/staged/ (same paths
# below it). This script installs the ones that differ, then: daemon-reload for changed units, `nginx -t` and a
# reload for a changed nginx config (a config nginx refuses never goes live: every file of the run is put back
# and the script fails), try-restart for changed services and timers, and enables the units listed in
# /etc/earshot/units.d/*.units ("<unit> now" starts it too, "<unit> boot" only at the next boot). It runs at the
# first boot and again whenever cfn-hup sees the stack change the metadata: no deploy replaces or stops the instance.
#
# Environment: EARSHOT_ROOT prefixes every path (tests); EARSHOT_SYSTEMCTL (default systemctl),
# EARSHOT_NGINX_TEST_CMD (default: nginx -t -q) and EARSHOT_NGINX_RELOAD_CMD (default: systemctl reload nginx when
# nginx runs) replace the commands; the rest comes from /etc/earshot/earshot.env.
set -euo pipefail

root="${EARSHOT_ROOT:-}"
staged="$root/etc/earshot/staged"
systemctl_cmd="${EARSHOT_SYSTEMCTL:-systemctl}"
nginx_test="${EARSHOT_NGINX_TEST_CMD:-nginx -t -q}"
log() { printf 'earshot-apply: %s\n' "$*" >&2; }

if [[ ! -d "$staged" ]]; then
  log "nothing staged in $staged"
  exit 1
fi

backup="$(mktemp -d)"
trap 'rm -rf "$backup"' EXIT
changed=()
created=()
while IFS= read -r -d '' file; do
  rel="${file#"$staged"}"
  target="$root$rel"
  mode="$(stat -c '%a' "$file")"
  if [[ -f "$target" ]] && cmp -s "$file" "$target" && [[ "$(stat -c '%a' "$target")" == "$mode" ]]; then
    continue
  fi
  if [[ -f "$target" ]]; then
    install -D -m 0600 /dev/null "$backup$rel"
    cp -p "$target" "$backup$rel"
  else
    created+=("$rel")
  fi
  install -D -m "$mode" "$file" "$target"
  changed+=("$rel")
done < <(find "$staged" -type f -print0 | sort -z)

rollback() {
  local rel
  for rel in "${changed[@]}"; do
    if [[ -f "$backup$rel" ]]; then cp -p "$backup$rel" "$root$rel"; fi
  done
  for rel in "${created[@]}"; do rm -f "$root$rel"; done
  log "rolled back: ${changed[*]}"
}

matches() { # matches PATTERN: is any changed path like PATTERN?
  local rel
  for rel in "${changed[@]}"; do
    # shellcheck disable=SC2053 # the pattern is a glob on purpose
    if [[ "$rel" == $1 ]]; then return 0; fi
  done
  return 1
}

# Settings for the nginx prerequisites below, read from the file just installed.
if [[ -f "$root/etc/earshot/earshot.env" ]]; then
  set -a
  # shellcheck disable=SC1091
  . "$root/etc/earshot/earshot.env"
  set +a
fi

# nginx needs its TLS files (self-signed until Let's Encrypt) and the upstreams file before `nginx -t` can pass.
prepare_nginx() {
  local cert="$root${EARSHOT_TLS_CERT:-/etc/nginx/earshot/tls/fullchain.pem}"
  local key="$root${EARSHOT_TLS_KEY:-/etc/nginx/earshot/tls/privkey.pem}"
  install -d -m 0755 "$root${EARSHOT_ACME_WEBROOT:-/var/lib/earshot/acme}" "$(dirname "$cert")"
  if [[ ! -e "$cert" ]]; then
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 825 \
      -subj "/CN=${EARSHOT_DOMAIN:-earshot-proxy}" -keyout "$key" -out "$cert" 2>/dev/null
    chmod 0600 "$key"
  fi
  if [[ ! -e "$root${EARSHOT_UPSTREAMS_FILE:-/etc/nginx/earshot/upstreams.conf}" && -x "$root/usr/local/sbin/earshot-upstreams" ]]; then
    EARSHOT_UPSTREAMS_FILE="$root${EARSHOT_UPSTREAMS_FILE:-/etc/nginx/earshot/upstreams.conf}" \
      EARSHOT_NGINX_RELOAD_CMD=none "$root/usr/local/sbin/earshot-upstreams"
  fi
}

if ((${#changed[@]} > 0)); then
  log "installed: ${changed[*]}"
fi
if matches '/etc/systemd/system/*'; then "$systemctl_cmd" daemon-reload; fi

nginx_changed=false
if matches '/etc/nginx/*'; then
  nginx_changed=true
  prepare_nginx
  if ! bash -c "$nginx_test"; then
    log "nginx refuses the new configuration"
    rollback
    if matches '/etc/systemd/system/*'; then "$systemctl_cmd" daemon-reload; fi
    exit 1
  fi
fi

# Changed scripts and units take effect now in the services that are running; inactive ones start below or at boot.
declare -A restart=()
for rel in "${changed[@]}"; do
  case "$rel" in
    /usr/local/sbin/earshot-nat | /etc/earshot/earshot.env) restart[earshot-nat.service]=1 ;;
    /usr/local/sbin/earshot-route-key) restart[earshot-route-key.service]=1 ;;
    /etc/systemd/system/*.timer | /etc/systemd/system/earshot-nat.service | /etc/systemd/system/earshot-route-key.service)
      restart["${rel##*/}"]=1
      ;;
  esac
done
for unit in "${!restart[@]}"; do "$systemctl_cmd" try-restart "$unit"; done

if [[ "$nginx_changed" == true ]]; then
  if [[ -n "${EARSHOT_NGINX_RELOAD_CMD:-}" ]]; then
    bash -c "$EARSHOT_NGINX_RELOAD_CMD"
  elif "$systemctl_cmd" is-active --quiet nginx; then
    "$systemctl_cmd" reload nginx
  fi
fi

# Units to enable, from every manifest staged so far (the NAT step stages only its own).
now=()
boot=()
for manifest in "$root"/etc/earshot/units.d/*.units; do
  [[ -e "$manifest" ]] || continue
  while read -r unit when; do
    [[ -z "$unit" || "$unit" == \#* ]] && continue
    if [[ "$when" == now ]]; then now+=("$unit"); else boot+=("$unit"); fi
  done <"$manifest"
done
if ((${#boot[@]} > 0)); then "$systemctl_cmd" enable --quiet "${boot[@]}"; fi
if ((${#now[@]} > 0)); then "$systemctl_cmd" enable --quiet --now "${now[@]}"; fi
