#!/usr/bin/env bash
# Runs the whole test suite: builds the solution, runs every test project, prints "N passed, N failed" last.
# Usage: scripts/test.sh [extra dotnet test arguments]
set -uo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

log=$(mktemp)
trap 'rm -f "$log"' EXIT

dotnet test LlmTrace.sln -c Release "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}

# Sum the per-assembly summaries ("Passed!  - Failed: 0, Passed: 134, Skipped: 0, Total: 134, ...").
passed=$(grep -Eo 'Passed: +[0-9]+' "$log" | grep -Eo '[0-9]+' | awk '{s+=$1} END {print s+0}')
failed=$(grep -Eo 'Failed: +[0-9]+' "$log" | grep -Eo '[0-9]+' | awk '{s+=$1} END {print s+0}')
skipped=$(grep -Eo 'Skipped: +[0-9]+' "$log" | grep -Eo '[0-9]+' | awk '{s+=$1} END {print s+0}')

if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  # The build or the runner failed before any test could fail: count that as a failure.
  failed=1
fi

echo "$passed passed, $failed failed, $skipped skipped"
[ "$status" -eq 0 ] && [ "$failed" -eq 0 ]
