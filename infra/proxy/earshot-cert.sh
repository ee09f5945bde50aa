#!/usr/bin/env bash
# earshot-cert: the origin name's Let's Encrypt certificate, kept across instance replacement.
#
#   earshot-cert restore   at boot, before nginx: if this instance has no certificate yet, unpack the backup of
#                          /etc/letsencrypt from S3 (a replaced instance keeps its certificate and account: Let's
#                          Encrypt allows only 5 duplicate certificates a week)
#   earshot-cert obtain    from earshot-cert.timer until a certificate exists: once DNS for the origin name points at
#                          this instance (checked first: Let's Encrypt allows 5 failed validations an hour), certbot
#   earshot-cert deployed  certbot's deploy hook, at issuance and every renewal: point nginx at the lineage, reload
#                          nginx, back /etc/letsencrypt up to S3
#
# Settings (/etc/earshot/earshot.env): EARSHOT_DOMAIN, EARSHOT_LETSENCRYPT_EMAIL, EARSHOT_ACME_WEBROOT,
# EARSHOT_TLS_CERT, EARSHOT_TLS_KEY, EARSHOT_CERT_BUCKET and EARSHOT_CERT_KEY (the backup object).
# Tests: EARSHOT_ROOT prefixes the paths; EARSHOT_CERTBOT, EARSHOT_AWS, EARSHOT_RESOLVE_HOST_CMD and
# EARSHOT_NGINX_RELOAD_CMD replace the commands.
set -euo pipefail

root="${EARSHOT_ROOT:-}"
domain="${EARSHOT_DOMAIN:?EARSHOT_DOMAIN is required}"
letsencrypt="$root/etc/letsencrypt"
cert="$root${EARSHOT_TLS_CERT:-/etc/nginx/earshot/tls/fullchain.pem}"
key="$root${EARSHOT_TLS_KEY:-/etc/nginx/earshot/tls/privkey.pem}"
aws="${EARSHOT_AWS:-/usr/local/sbin/earshot-aws}"
certbot="${EARSHOT_CERTBOT:-certbot}"
reload="${EARSHOT_NGINX_RELOAD_CMD:-nginx -t -q && systemctl reload nginx}"
log() { printf 'earshot-cert: %s\n' "$*" >&2; }

link() { # link LINEAGE: nginx's fixed paths point at that lineage's files
  ln -sfn "$1/fullchain.pem" "$cert"
  ln -sfn "$1/privkey.pem" "$key"
}

backup() {
  if [[ -z "${EARSHOT_CERT_BUCKET:-}" ]]; then return 0; fi
  local archive
  archive="$(mktemp)"
  # The whole state certbot needs to renew: account, archive, live links, renewal settings.
  tar -czf "$archive" -C "$root/etc" letsencrypt
  "$aws" s3-put --bucket "$EARSHOT_CERT_BUCKET" --key "$EARSHOT_CERT_KEY" --file "$archive"
  rm -f "$archive"
  log "backed up /etc/letsencrypt to s3://$EARSHOT_CERT_BUCKET/$EARSHOT_CERT_KEY"
}

case "${1:-}" in
  restore)
    if [[ -e "$letsencrypt/live/$domain/fullchain.pem" || -z "${EARSHOT_CERT_BUCKET:-}" ]]; then exit 0; fi
    archive="$(mktemp)"
    status=0
    "$aws" s3-get --bucket "$EARSHOT_CERT_BUCKET" --key "$EARSHOT_CERT_KEY" --file "$archive" || status=$?
    if ((status == 3)); then
      log "no backup yet: a certificate will be requested"
      rm -f "$archive"
      exit 0
    elif ((status != 0)); then
      rm -f "$archive"
      exit "$status"
    fi
    install -d -m 0755 "$root/etc"
    tar -xzf "$archive" -C "$root/etc"
    rm -f "$archive"
    if [[ -e "$letsencrypt/live/$domain/fullchain.pem" ]]; then
      link "/etc/letsencrypt/live/$domain"
      log "restored the certificate for $domain from the backup"
    fi
    ;;
  obtain)
    if [[ -e "$letsencrypt/live/$domain/fullchain.pem" ]]; then exit 0; fi
    address="$("$aws" public-ipv4)"
    resolved="$(${EARSHOT_RESOLVE_HOST_CMD:-getent ahostsv4} "$domain" | awk '{ print $1; exit }' || true)"
    if [[ -z "$address" || "$resolved" != "$address" ]]; then
      log "$domain resolves to '${resolved}', this instance is '${address}': waiting for DNS before asking Let's Encrypt"
      exit 0
    fi
    account=(--register-unsafely-without-email)
    if [[ -n "${EARSHOT_LETSENCRYPT_EMAIL:-}" ]]; then account=(-m "$EARSHOT_LETSENCRYPT_EMAIL" --no-eff-email); fi
    "$certbot" certonly --webroot -w "${EARSHOT_ACME_WEBROOT:-/var/lib/earshot/acme}" -d "$domain" \
      --non-interactive --agree-tos "${account[@]}" --deploy-hook '/usr/local/sbin/earshot-cert deployed'
    ;;
  deployed)
    lineage="${RENEWED_LINEAGE:?certbot sets RENEWED_LINEAGE for deploy hooks}"
    link "$lineage"
    bash -c "$reload"
    backup
    ;;
  *)
    log "usage: earshot-cert restore|obtain|deployed"
    exit 2
    ;;
esac
