#!/bin/bash
# Steady-state side by side: a bare YARP hop, then each given SelfHost build, each warmed 15 s at 16 clients before
# 1, 16 and 64 clients are measured (wrk, D seconds a point). Run from the repo root after `bash ../shared/perf/run.sh`
# has built the YARP baseline into $PERF_CACHE. Usage:
#   dotnet build LlmTrace.SelfHost -c Release -o /tmp/gw-after
#   bash bench/steady-state.sh after=/tmp/gw-after/LlmTrace.SelfHost.dll [before=/tmp/gw-before/LlmTrace.SelfHost.dll]
set -u
HERE=$(cd ../shared/perf && pwd); CACHE=${PERF_CACHE:-/tmp/llmtrace-perf}; D=${D:-8}
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1]);s.close()'; }
M=$(free_port); node "$HERE/perf-mock.mjs" $M >/dev/null 2>&1 & MP=$!
trap 'kill $MP 2>/dev/null' EXIT
sleep 1
run() { # name url
  wrk -t2 -c16 -d15s -s "$HERE/chat.lua" "$2/v1/chat/completions" >/dev/null 2>&1; sleep 1
  for c in 1 16 64; do th=$([ $c = 1 ] && echo 1 || echo 2)
    out=$(wrk -t$th -c$c -d${D}s --latency -s "$HERE/chat.lua" "$2/v1/chat/completions" 2>&1)
    printf "%-10s %3s %10s %8s %8s\n" "$1" $c "$(echo "$out" | awk '/Requests\/sec/{print $2}')" "$(echo "$out" | awk '$1=="50%"{print $2}')" "$(echo "$out" | awk '$1=="99%"{print $2}')"
  done; }
printf "%-10s %3s %10s %8s %8s\n" target conc req/s p50 p99
Y=$(free_port); UPSTREAM=http://127.0.0.1:$M dotnet "$CACHE/yarp/yarp-baseline.dll" --urls http://127.0.0.1:$Y >/dev/null 2>&1 & YP=$!
sleep 3; run yarp http://127.0.0.1:$Y; kill $YP
for gw in "$@"; do name=${gw%%=*}; dll=${gw#*=}
  G=$(free_port); dir=$(mktemp -d)
  (cd "$dir" && exec env LlmTrace__Upstreams__Default=http://127.0.0.1:$M Logging__LogLevel__Default=Warning dotnet "$dll" --urls http://127.0.0.1:$G >"$dir/gw.log" 2>&1) &
  sleep 4; run "$name" http://127.0.0.1:$G
  pkill -f "dotnet $dll --urls http://127.0.0.1:$G"; sleep 1; rm -rf "$dir"
done
