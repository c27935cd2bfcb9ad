#!/usr/bin/env bash
# Apply exactly the plan that was reviewed, or stop. REVIEWED is the plan.json saved
# by plan.sh on the pull request. The directory and the files are planned again; when
# the new plan's digest differs (someone changed the directory, or the files changed
# after the review), nothing is applied: changed.md holds the new plan to post, and
# the script exits 10. Otherwise the reviewed plan is applied with apply --plan, which
# re-reads every object it touches and refuses if any changed.
#   usage: apply-reviewed.sh DIRECTORY REVIEWED OUTDIR [APPROVE]
# Python runs isolated (-I): no module comes from the working directory.
set -uo pipefail
dir=$1 reviewed=$2 out=$3 approve=${4:-}
mkdir -p "$out"
digest() { python3 -I -c 'import json,sys; print(json.load(open(sys.argv[1]))["digest"])' "$1"; }
reconciler plan "$dir" --format json --out "$out/current.json" > /dev/null
code=$?
if [ "$code" != 0 ] && [ "$code" != 3 ]; then exit "$code"; fi
if [ "$(digest "$out/current.json")" != "$(digest "$reviewed")" ]; then
  reconciler plan "$dir" --format markdown > "$out/changed.md" || true
  echo "the plan changed since it was reviewed; nothing was applied" >&2
  exit 10
fi
if [ -n "$approve" ]; then
  exec reconciler apply "$dir" --plan "$reviewed" --auto-approve --approve "$approve"
fi
exec reconciler apply "$dir" --plan "$reviewed" --auto-approve
