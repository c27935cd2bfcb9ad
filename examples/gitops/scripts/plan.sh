#!/usr/bin/env bash
# Plan the directory for review, once. Writes plan.md (the comment to post: the plan,
# or the error when no plan could be made, so the pull request never gets silence),
# plan.json (the reviewed plan, kept as an artifact for the merge) and exitcode.
#   usage: plan.sh DIRECTORY OUTDIR
set -uo pipefail
dir=$1 out=$2
mkdir -p "$out"
reconciler plan "$dir" --format markdown --out "$out/plan.json" --detailed-exitcode \
  --log-format json > "$out/plan.md" 2> "$out/plan.log"
code=$?
if [ "$code" != 0 ] && [ "$code" != 2 ] && [ "$code" != 3 ]; then
  {
    echo "## Reconciler plan failed (exit $code)"
    echo
    echo '```'
    python3 - "$out/plan.log" <<'PY'
import json, sys
for line in open(sys.argv[1], encoding="utf-8"):
    try:
        event = json.loads(line)
    except ValueError:
        print(line.rstrip())
        continue
    if event.get("level") == "error":
        print(event.get("message") or event.get("event"))
PY
    echo '```'
  } > "$out/plan.md"
fi
echo "$code" > "$out/exitcode"
