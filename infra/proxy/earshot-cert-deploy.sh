#!/usr/bin/env bash
# certbot deploy hook: points nginx's fixed certificate paths at the lineage certbot just issued or renewed, then
# reloads nginx. nginx's config never changes, so a failed issuance leaves the self-signed certificate in place.
set -euo pipefail
lineage="${RENEWED_LINEAGE:?certbot sets RENEWED_LINEAGE for deploy hooks}"
tls_dir="${EARSHOT_TLS_DIR:-/etc/nginx/earshot/tls}"
ln -sfn "${lineage}/fullchain.pem" "${tls_dir}/fullchain.pem"
ln -sfn "${lineage}/privkey.pem" "${tls_dir}/privkey.pem"
nginx -t -q
systemctl reload nginx
