#!/usr/bin/env bash
# Plan the directory for review, once. Writes plan.md (the comment to post: the plan,
# or the error when no plan could be made, so the pull request never gets silence),
# plan.json (the reviewed plan, kept as an artifact for the merge) and exitcode.
#   usage: plan.sh DIRECTORY OUTDIR
# DIRECTORY is data: on a pull request, the pull request's files (pr/directory), read
# by reconciler and nothing else. Python runs isolated (-I): no module comes from the
# working directory, where a checkout's json.py would otherwise shadow the stdlib's.
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
    # The messages quote the files, which are untrusted: HTML-escaped in <pre>, where
    # nothing is markdown (a fence could be closed by the text it fences).
    python3 -I - "$out/plan.log" <<'PY'
import html, json, sys
lines = []
for line in open(sys.argv[1], encoding="utf-8"):
    try:
        event = json.loads(line)
    except ValueError:
        lines.append(line.rstrip())
        continue
    if isinstance(event, dict) and event.get("level") == "error":
        lines.append(str(event.get("message") or event.get("event")))
print("<pre>" + "\n".join(html.escape(text) for text in lines) + "</pre>")
PY
  } > "$out/plan.md"
fi
echo "$code" > "$out/exitcode"
