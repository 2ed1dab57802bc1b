#!/usr/bin/env bash
# Runs the whole test suite: installs and starts the emulators the tests use (pinned in package.json), builds the
# solution, runs every test project, stops the emulators, and prints "N passed, N failed" last.
# Usage: scripts/test.sh [extra dotnet test arguments]
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

log=$(mktemp)
emulators=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]:-}"; do [ -n "$pid" ] && kill "$pid" 2>/dev/null; done
  rm -rf "$log" "$emulators"
}
trap cleanup EXIT

fail_setup() { echo "test setup failed: $1"; echo "0 passed, 1 failed"; exit 1; }

# Emulators: Azurite (Blob/Queue/Table) on loopback ports of its own, so a developer's Azurite on 10000-10002 is left alone.
if [ ! -x node_modules/.bin/azurite ]; then
  npm ci --no-audit --no-fund --loglevel=error >"$emulators/npm.log" 2>&1 || { cat "$emulators/npm.log"; fail_setup "npm ci"; }
fi
blob=${LLMTRACE_AZURITE_BLOB_PORT:-10100}; queue=${LLMTRACE_AZURITE_QUEUE_PORT:-10101}; table=${LLMTRACE_AZURITE_TABLE_PORT:-10102}
node_modules/.bin/azurite --silent --skipApiVersionCheck --loose --inMemoryPersistence \
  --blobHost 127.0.0.1 --blobPort "$blob" --queueHost 127.0.0.1 --queuePort "$queue" --tableHost 127.0.0.1 --tablePort "$table" \
  >"$emulators/azurite.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do
  (exec 3<>/dev/tcp/127.0.0.1/"$table") 2>/dev/null && (exec 3<>/dev/tcp/127.0.0.1/"$queue") 2>/dev/null && (exec 3<>/dev/tcp/127.0.0.1/"$blob") 2>/dev/null && break
  sleep 0.1
done
(exec 3<>/dev/tcp/127.0.0.1/"$table") 2>/dev/null || { cat "$emulators/azurite.log"; fail_setup "Azurite did not start"; }
# The Cosmos DB SQL API emulator, plain HTTP on loopback (the tests add the SDK settings it needs).
cosmos=${LLMTRACE_COSMOS_PORT:-10181}
node_modules/.bin/cosmosdb-server --no-ssl --host 127.0.0.1 -p "$cosmos" >"$emulators/cosmos.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do (exec 3<>/dev/tcp/127.0.0.1/"$cosmos") 2>/dev/null && break; sleep 0.1; done
(exec 3<>/dev/tcp/127.0.0.1/"$cosmos") 2>/dev/null || { cat "$emulators/cosmos.log"; fail_setup "the Cosmos DB emulator did not start"; }
export LLMTRACE_TEST_COSMOS="http://127.0.0.1:$cosmos/"

# From Debian: promtool (package prometheus) parses the /metrics scrape in the tests, and Chromium runs the dashboard's
# browser tests (driven by Playwright for .NET). The prometheus package would also start a Prometheus server where
# systemd runs: it is stopped and disabled again, only the tool is wanted.
wanted=()
command -v promtool >/dev/null 2>&1 || wanted+=(prometheus)
[ -x "${LLMTRACE_CHROMIUM:-/usr/bin/chromium}" ] || wanted+=(chromium)
if [ ${#wanted[@]} -gt 0 ]; then
  as_root=""; [ "$(id -u)" -ne 0 ] && as_root="sudo"
  { $as_root apt-get update && DEBIAN_FRONTEND=noninteractive $as_root apt-get install -y --no-install-recommends "${wanted[@]}"; } \
    >"$emulators/apt.log" 2>&1 || { cat "$emulators/apt.log"; fail_setup "apt-get install ${wanted[*]}"; }
  if command -v systemctl >/dev/null 2>&1; then $as_root systemctl disable --now prometheus >/dev/null 2>&1 || true; fi
fi

key="Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
export LLMTRACE_TEST_STORAGE="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=$key;BlobEndpoint=http://127.0.0.1:$blob/devstoreaccount1;QueueEndpoint=http://127.0.0.1:$queue/devstoreaccount1;TableEndpoint=http://127.0.0.1:$table/devstoreaccount1;"

dotnet test "$root/LlmTrace.sln" -c Release "$@" 2>&1 | tee "$log"
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
