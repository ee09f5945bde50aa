#!/usr/bin/env bash
# earshot-packages PACKAGE...: installs what is missing, retrying (a dnf running at boot makes installs fail at
# random: aws-cdk issue 36717). Nothing to install: no dnf at all, so re-applying the configuration stays cheap.
# Tests: EARSHOT_DNF and EARSHOT_RPM replace the commands, EARSHOT_RETRY_PAUSE the pause unit (seconds).
set -euo pipefail

dnf="${EARSHOT_DNF:-dnf}"
rpm="${EARSHOT_RPM:-rpm}"
pause="${EARSHOT_RETRY_PAUSE:-10}"
log() { printf 'earshot-packages: %s\n' "$*" >&2; }

missing=()
for package in "$@"; do
  "$rpm" -q --quiet "$package" || missing+=("$package")
done
if ((${#missing[@]} == 0)); then exit 0; fi

for attempt in 1 2 3 4 5 6; do
  if "$dnf" install -y "${missing[@]}"; then
    log "installed ${missing[*]}"
    exit 0
  fi
  log "dnf install ${missing[*]} failed (attempt ${attempt} of 6)"
  if ((attempt < 6)); then sleep $((pause * attempt)); fi
done
exit 1
