#!/usr/bin/env bash
# The pipec gate for a pull request that touches a pipeline spec or its telemetry events:
#   1. pipec check            — the spec is valid (warnings fail the gate too)
#   2. pipec validate-events  — every sample event matches the schema of its type
#   3. pipec compat           — each event type's schema change is allowed by its
#                               compatibility mode, compared with the base branch
#
# Usage: pipec-gate.sh PIPELINE_DIR EVENTS_PATH [BASE_REF]
#   PIPELINE_DIR  the spec directory (holding pipeline.yaml), relative to the repository root
#   EVENTS_PATH   sample events: JSON/NDJSON files or directories
#   BASE_REF      git ref of the base branch (default: origin/main); skipped when the
#                 spec does not exist there yet
# Set PIPEC to the pipec binary (default: pipec on PATH). In GitHub Actions (GITHUB_ACTIONS
# set) every step prints its findings with `--format github`: annotations on the files and
# lines they are about (a spec problem on the spec, an invalid event on its line, a breaking
# schema change on the new schema's line).
set -uo pipefail

pipeline=${1:?usage: pipec-gate.sh PIPELINE_DIR EVENTS_PATH [BASE_REF]}
events=${2:?usage: pipec-gate.sh PIPELINE_DIR EVENTS_PATH [BASE_REF]}
base=${3:-origin/main}
pipec=${PIPEC:-pipec}
format=text
[ -n "${GITHUB_ACTIONS:-}" ] && format=github
status=0

echo "== pipec check $pipeline"
"$pipec" check "$pipeline" --deny-warnings --format "$format" || status=1

echo "== pipec validate-events $events"
"$pipec" validate-events --pipeline "$pipeline" --format "$format" "$events" || status=1

echo "== pipec compat $base:$pipeline -> $pipeline"
if git cat-file -e "$base:$pipeline/pipeline.yaml" 2>/dev/null; then
  old=$(mktemp -d)
  trap 'rm -rf "$old"' EXIT
  # The base branch's copy of the spec, with its schemas, next to the new one.
  git archive "$base" "$pipeline" | tar -x -C "$old"
  "$pipec" compat "$old/$pipeline" "$pipeline" --format "$format" || status=1
else
  echo "no spec at $base:$pipeline; nothing to compare"
fi

if [ "$status" -ne 0 ]; then
  echo "pipec gate: FAILED"
else
  echo "pipec gate: passed"
fi
exit "$status"
