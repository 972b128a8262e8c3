#!/usr/bin/env bash
# Runs the benchmark: starts a bench silo process, runs every workload from a separate client process, prints
# "RESULT name value unit" lines, and writes bench/results/latest.json and bench/RESULTS.md. Leaves no process behind.
# Usage: bench/run.sh [--quick] [--only WORKLOAD]   (--only prints one workload's figures and writes no report)
set -euo pipefail
cd "$(dirname "$0")/.."

dotnet build bench/OrleansDsm.Bench --configuration Release --nologo -v quiet >/dev/null
bench=bench/OrleansDsm.Bench/bin/Release/net10.0/OrleansDsm.Bench.dll

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
silo_port=$(free_port); gateway_port=$(free_port)
log=$(mktemp)
dotnet "$bench" silo "$silo_port" "$gateway_port" >"$log" 2>&1 &
silo=$!
# Cleanup must not fail the run: the silo may already be gone when the EXIT trap runs.
trap 'kill "$silo" 2>/dev/null || true; sleep 1; kill -9 "$silo" 2>/dev/null || true; wait "$silo" 2>/dev/null || true; rm -f "$log"' EXIT

for _ in $(seq 1 120); do
  grep -q "bench silo ready" "$log" && break
  kill -0 "$silo" 2>/dev/null || { cat "$log" >&2; echo "bench: the silo did not start" >&2; exit 1; }
  sleep 0.5
done
grep -q "bench silo ready" "$log" || { cat "$log" >&2; echo "bench: the silo did not become ready" >&2; exit 1; }

dotnet "$bench" client "127.0.0.1:$gateway_port" "$@" --command "$(echo "bench/run.sh $*" | sed "s/ *$//")"
