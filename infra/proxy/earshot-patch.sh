#!/usr/bin/env bash
# earshot-patch: moves the instance to the newest Amazon Linux 2023 release, in the weekly maintenance window only.
#
# AL2023 repositories are locked to the release of the image the instance booted from, so plain `dnf upgrade` (and
# dnf-automatic) find nothing new. `dnf upgrade --releasever=latest` moves to the newest release: every package
# update since, security fixes included, and system-release itself, so the lock follows. The stack starts the
# instance at the window's start (schedule.patch, off-hours) and stops it at its end; this runs at every boot
# (earshot-patch.service) and acts only inside the window. A kernel or core library update is followed by a reboot,
# still inside the window. Not patched here: the image the instance is created from (src/ami-pins.ts, by
# a deliberate commit, see docs/deploy.md), the Fargate tasks (their image is rebuilt and redeployed by CI).
#
# Settings (/etc/earshot/earshot.env): EARSHOT_PATCH_TZ, EARSHOT_PATCH_DAY (SUN..SAT), EARSHOT_PATCH_START (HH:MM),
# EARSHOT_PATCH_MINUTES. Tests: EARSHOT_NOW (epoch seconds), EARSHOT_DNF, EARSHOT_REBOOT_CMD, EARSHOT_STATE_DIR.
set -euo pipefail

log() { printf 'earshot-patch: %s\n' "$*" >&2; }
tz="${EARSHOT_PATCH_TZ:-UTC}"
day="${EARSHOT_PATCH_DAY:?EARSHOT_PATCH_DAY is required}"
start="${EARSHOT_PATCH_START:?EARSHOT_PATCH_START is required}"
length="${EARSHOT_PATCH_MINUTES:?EARSHOT_PATCH_MINUTES is required}"
now="${EARSHOT_NOW:-$(date +%s)}"
dnf="${EARSHOT_DNF:-dnf}"
reboot="${EARSHOT_REBOOT_CMD:-systemctl reboot}"
state="${EARSHOT_STATE_DIR:-/var/lib/earshot}"

days=(SUN MON TUE WED THU FRI SAT)
index=-1
for i in "${!days[@]}"; do if [[ "${days[$i]}" == "$day" ]]; then index=$i; fi; done
if ((index < 0)) || [[ ! "$start" =~ ^([01][0-9]|2[0-3]):[0-5][0-9]$ ]] || [[ ! "$length" =~ ^[0-9]+$ ]]; then
  log "bad window: day=$day start=$start minutes=$length"
  exit 2
fi

# Minutes since Sunday 00:00 in the schedule's time zone, for now and for the window's start.
read -r weekday hour minute < <(TZ="$tz" date -d "@$now" '+%w %H %M')
now_minutes=$((weekday * 1440 + 10#$hour * 60 + 10#$minute))
window_start=$((index * 1440 + 10#${start%:*} * 60 + 10#${start#*:}))
since=$(((now_minutes - window_start + 10080) % 10080))
if ((since >= length)); then
  log "outside the patch window ($day $start $tz, $length min): nothing to do"
  exit 0
fi

attempt=1
until "$dnf" upgrade --releasever=latest --refresh -y; do
  if ((attempt == 3)); then
    log "dnf upgrade failed 3 times; trying again next week"
    exit 1
  fi
  log "dnf upgrade failed (attempt $attempt); retrying"
  sleep $((attempt * 20))
  attempt=$((attempt + 1))
done
install -d -m 0755 "$state"
TZ="$tz" date -d "@$now" '+%F %R %Z' >"$state/last-patch"
log "now on $(rpm -q --qf '%{VERSION}' system-release 2>/dev/null || echo 'the latest release')"

# needs-restarting -r exits 1 when a reboot is needed (new kernel, glibc, systemd...); 0 when not.
if "$dnf" needs-restarting -r >/dev/null 2>&1; then
  log "no reboot needed"
else
  log "rebooting into the updated system"
  bash -c "$reboot"
fi
