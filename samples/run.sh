#!/usr/bin/env bash
# Runs one sample in one command: builds it, starts a silo of its own on free ports (memory storage), runs the sample's
# coordinator against it (which starts the worker processes), and stops the silo. Exit code: the sample's.
# Usage: samples/run.sh jacobi|histogram|tsp [sample arguments, e.g. --workers 3 --mode strict]
# To run against a cluster you already have, run the sample itself: dotnet run --project samples/Jacobi -- --gateway host:port
set -euo pipefail
cd "$(dirname "$0")/.."

case "${1:-}" in
  jacobi) sample=Jacobi ;; histogram) sample=Histogram ;; tsp) sample=Tsp ;;
  *) echo "usage: samples/run.sh jacobi|histogram|tsp [arguments]" >&2; exit 2 ;;
esac
shift

dotnet build "samples/$sample" --configuration Release --nologo -v quiet >/dev/null
dotnet build Silo --configuration Release --nologo -v quiet >/dev/null

# Three free loopback ports, bound at once so that they differ (one at a time, the kernel may give one twice).
read -r silo_port gateway_port http_port < <(python3 -c '
import socket
sockets = [socket.socket() for _ in range(3)]
for s in sockets: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in sockets])')
log=$(mktemp)
dotnet Silo/bin/Release/net10.0/OrleansDsm.Silo.dll --Silo:SiloPort="$silo_port" --Silo:GatewayPort="$gateway_port" \
  --Silo:HttpPort="$http_port" >"$log" 2>&1 &
silo=$!
trap 'kill "$silo" 2>/dev/null || true; wait "$silo" 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 1 120); do
  grep -q "silo ready" "$log" && break
  kill -0 "$silo" 2>/dev/null || { cat "$log" >&2; echo "samples/run.sh: the silo did not start" >&2; exit 1; }
  sleep 0.5
done
grep -q "silo ready" "$log" || { cat "$log" >&2; echo "samples/run.sh: the silo did not become ready" >&2; exit 1; }

dotnet "samples/$sample/bin/Release/net10.0/OrleansDsm.Samples.$sample.dll" --gateway "127.0.0.1:$gateway_port" "$@"
