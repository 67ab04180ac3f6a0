#!/usr/bin/env bash
# Nightly determinism regression (SPEC §4 `regress`): replays every session the golden file lists,
# twice with different chunk sizes, and compares with the file.
#
#   scripts/nightly_regression.sh LAKE GOLDEN [REPORT_DIR] [regress options...]
#   e.g. (cron, 02:00):  0 2 * * *  cd /srv/levelreplay && scripts/nightly_regression.sh \
#            /data/lake data/golden/es-2025q4.json /srv/regress --workers 2
#
# Exit status is regress's: 0 pass (provenance-only changes listed in the report), 1 Gold drift,
# a run-to-run difference or a failed session, 2 a bad lake, golden file or option.
# REPORT_DIR keeps regress.md / regress.json, the two runs and the baseline Gold that lets the
# next drift be named down to its row and column: keep it between nights.
set -euo pipefail
if [[ $# -lt 2 ]]; then
  sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
lake=$1 golden=$2 report=${3:-regress}
shift $(( $# >= 3 ? 3 : 2 ))
here=$(cd "$(dirname "$0")/.." && pwd)
make -C "$here" --no-print-directory setup >/dev/null
exec "$here/.venv/bin/levelreplay" regress --lake "$lake" --golden "$golden" --report "$report" "$@"
