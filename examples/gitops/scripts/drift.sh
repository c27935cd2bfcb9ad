#!/usr/bin/env bash
# Nightly: report drift (changes made outside the repository) without applying.
# Exit 0 and no drift.md when the directory matches the files; exit 2 with drift.md
# (the markdown plan that would undo the drift) when it does not; any other code is
# an error, with the message in drift.md. Applying stays a decision of the workflow.
#   usage: drift.sh DIRECTORY OUTDIR
set -uo pipefail
dir=$1 out=$2
mkdir -p "$out"
reconciler plan "$dir" --format markdown --detailed-exitcode > "$out/plan.md" 2> "$out/plan.log"
code=$?
case "$code" in
  0) rm -f "$out/drift.md" ;;
  2|3) { echo "# Directory drift"; echo; cat "$out/plan.md"; } > "$out/drift.md" ;;
  *) # The log quotes the files and the directory: HTML-escaped in <pre>, never markdown.
     { echo "# Drift check failed (exit $code)"; echo
       python3 -I -c 'import html, sys
print("<pre>" + html.escape(open(sys.argv[1], encoding="utf-8").read().rstrip()) + "</pre>")' "$out/plan.log"
     } > "$out/drift.md" ;;
esac
exit "$code"
