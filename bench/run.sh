#!/usr/bin/env bash
# Runs the benchmark: starts a bench silo process (memory storage), a throwaway PostgreSQL 15 with two silos on it
# (batched page store and Orleans' AdoNet provider), a private redis-server (installing Debian's when missing, as root), runs every workload from a separate client process, prints
# "RESULT name value unit" lines, and writes bench/results/latest.json and bench/RESULTS.md. Leaves no process behind.
# Usage: bench/run.sh [--quick] [--only WORKLOAD]   (--only prints one workload's figures and writes no report)
set -euo pipefail
cd "$(dirname "$0")/.."

# Quiet builds, whose output is shown only when one fails.
for project in bench/OrleansDsm.Bench samples/Jacobi; do
  build_log=$(dotnet build "$project" --configuration Release --nologo -v quiet 2>&1) || { echo "$build_log" >&2; echo "bench: the build of $project failed" >&2; exit 1; }
done
bench=bench/OrleansDsm.Bench/bin/Release/net10.0/OrleansDsm.Bench.dll
silo_dll=Silo/bin/Release/net10.0/OrleansDsm.Silo.dll
pg_bin=/usr/lib/postgresql/15/bin

# A loopback port free a moment ago and not handed out before in this run: the kernel may give a port it just let go
# again at once, and a silo's ports are asked for one after the other.
free_port() {
  python3 - "$ports_file" <<'PY'
import socket, sys
taken = set(open(sys.argv[1]).read().split())
while True:
    s = socket.socket(); s.bind(("127.0.0.1", 0)); port = str(s.getsockname()[1]); s.close()
    if port not in taken: break
open(sys.argv[1], "a").write(port + "\n"); print(port)
PY
}
as_postgres() { if [[ $(id -u) == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }

pids=(); pg_dir=""; logs=()
ports_file=$(mktemp); logs+=("$ports_file")
cleanup() {
  # Cleanup must not fail the run: processes may already be gone when the EXIT trap runs.
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  sleep 1
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  if [[ -n $pg_dir ]]; then
    as_postgres "$pg_bin/pg_ctl" -D "$pg_dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$pg_dir"
  fi
  rm -f "${logs[@]}"
}
trap cleanup EXIT

# Starts a process in the background, logging to a file, and waits for its ready line.
start() {
  local ready=$1; shift
  local log; log=$(mktemp); logs+=("$log")
  "$@" >"$log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 120); do
    grep -q "$ready" "$log" && return 0
    kill -0 "${pids[-1]}" 2>/dev/null || { cat "$log" >&2; echo "bench: '$*' did not start" >&2; exit 1; }
    sleep 0.5
  done
  cat "$log" >&2; echo "bench: '$*' did not become ready" >&2; exit 1
}

gateway_port=$(free_port)
# Server GC, as the product silo has it (its Web SDK turns it on), with the product's DATAS target from the bench's
# runtime configuration; the bench executable itself keeps workstation GC.
start "bench silo ready" env DOTNET_gcServer=1 dotnet "$bench" silo "$(free_port)" "$gateway_port"
bench_silo=${pids[-1]}

durable=()
if [[ -x $pg_bin/initdb && -x $pg_bin/pgbench ]]; then
  # Durable figures run against a database with the server's defaults (fsync=on, synchronous_commit=on); the
  # client prints both settings beside every durable figure.
  pg_dir=$(mktemp -d /tmp/dsm-bench-pg-XXXXXX)
  [[ $(id -u) == 0 ]] && chown postgres:postgres "$pg_dir"
  pg_port=$(free_port)
  as_postgres "$pg_bin/initdb" -D "$pg_dir/data" --auth=trust -U postgres -E UTF8 >/dev/null
  as_postgres "$pg_bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/server.log" -w start \
    -o "-p $pg_port -k $pg_dir -c listen_addresses=127.0.0.1 -c max_connections=300 -c shared_buffers=512MB" >/dev/null
  "$pg_bin/createdb" -h 127.0.0.1 -p "$pg_port" -U postgres bench
  connection="Host=127.0.0.1;Port=$pg_port;Username=postgres;Database=bench;Maximum Pool Size=64"
  gateways=()
  for store in Batched AdoNet; do
    port=$(free_port)
    start "OrleansDsm silo ready" dotnet "$silo_dll" --Silo:Storage=PostgreSQL "--Silo:ConnectionString=$connection" \
      --Silo:PageStore=$store --Silo:ClusterId="bench-${store,,}" --Silo:ServiceId="bench-${store,,}" --Silo:Dashboard=false \
      --Silo:SiloPort="$(free_port)" --Silo:GatewayPort="$port" --Silo:HttpPort="$(free_port)" --Logging:LogLevel:Default=Warning
    gateways+=("127.0.0.1:$port")
    if [[ $store == Batched ]]; then batched_silo=${pids[-1]}; fi
  done
  durable=(--durable "${gateways[0]}" "${gateways[1]}" "Host=127.0.0.1;Port=$pg_port;Username=postgres;Database=bench" "$pg_bin/pgbench" "$batched_silo")
else
  echo "bench: PostgreSQL 15 server binaries (initdb, pgbench) are missing from $pg_bin; durable figures are skipped. Install them with: apt-get install postgresql-15" >&2
fi

# The Redis anchors need Debian's redis-server: installed here when missing, if this may (root), as a fresh machine
# lacks it and the goals against Redis cannot be judged without it.
if ! command -v redis-server >/dev/null && [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
  echo "bench: installing Debian's redis-server for the redis.* anchors" >&2
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server >/dev/null
  # The package starts a system-wide server on port 6379; the bench starts its own private one and needs no other.
  { service redis-server stop || pkill -x redis-server; } >/dev/null 2>&1 || true
fi
redis=()
if command -v redis-server >/dev/null; then
  # The peer users would pick instead, private to this run, with persistence off: the DSM figures beside it keep pages
  # in memory as well.
  redis_port=$(free_port)
  start "Ready to accept connections" redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no --dir /tmp
  redis=(--redis "127.0.0.1:$redis_port")
else
  echo "bench: redis-server is missing; the redis.* anchors and their ratios are skipped. Install it with: apt-get install redis-server" >&2
fi

dotnet "$bench" client "127.0.0.1:$gateway_port" "$@" "${redis[@]}" "${durable[@]}" --silo-process "$bench_silo" --command "$(echo "bench/run.sh $*" | sed "s/ *$//")"
