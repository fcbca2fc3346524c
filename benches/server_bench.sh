#!/usr/bin/env bash
# Benchmark: `ipr serve` on a gitops repo with many tickets, measured with
# wrk (Debian package `wrk`).
#
#   benches/server_bench.sh [N] [SECONDS]    (default N=10000, 20 s per run)
#
# Generates a repo of N pending tickets (one admin `ipr import`, via git
# fast-import, as benches/store_bench.sh does) with an API token per user,
# starts a release `ipr serve` on it, and reports requests per second and
# p50 / p99 latency (wrk --latency) of:
#   GET  /v1/requests/prod            every ticket, as the admin
#   GET  /v1/requests/prod/pending    the tickets a tenant admin may approve
#   POST /v1/requests/prod/{id}/approve   each request a different ticket
# Reads go first, so both see N pending tickets. Not part of `cargo test`.
set -euo pipefail
n=${1:-10000}
secs=${2:-20}
root=$(cd "$(dirname "$0")/.." && pwd)
command -v wrk >/dev/null || { echo "needs wrk (apt-get install wrk)" >&2; exit 1; }
cargo build --release --quiet --manifest-path "$root/Cargo.toml"
ipr="${CARGO_TARGET_DIR:-$root/target}/release/ipr"
work=$(mktemp -d)
server=""
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
repo="$work/gitops"
export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1 IPR_NOW=2026-06-30T12:00:00Z
git init -q -b main "$repo"
git -C "$repo" config user.email ops-lead@example.com
git -C "$repo" config user.name ops-lead
"$ipr" -C "$repo" init --tenant tenant-finance -q

# The team config and a token for the admin and a tenant admin.
declare -A token
lines=""
for who in ops-lead@example.com jean.dupont@example.com; do
  token[$who]=$("$ipr" -C "$repo" token new "$who" 2>"$work/note")
  lines+="    $(grep 'sha256:' "$work/note" | sed 's/^ *//')"$'\n'
done
{ cat "$root/fixtures/config/team.yaml"; printf 'server:\n  tokens:\n%s' "$lines"; } >"$repo/.ipr/config.yaml"
git -C "$repo" commit -qam "team config and server tokens"

echo "generating $n tickets..."
python3 "$root/benches/gen_tickets.py" import "$n" | git -C "$repo" fast-import --quiet
git -C "$repo" reset -q --hard main

"$ipr" -C "$repo" serve --listen 127.0.0.1:0 2>"$work/server.log" &
server=$!
for _ in $(seq 1 100); do
  url=$(sed -n '1s/^listening on //p' "$work/server.log")
  [ -n "$url" ] && break
  sleep 0.1
done
[ -n "$url" ] || { cat "$work/server.log" >&2; exit 1; }
admin=${token[ops-lead@example.com]}
tadmin=${token[jean.dupont@example.com]}

# The first read verifies the imported history once (SPEC §10a); not timed.
curl -sf -o /dev/null -H "Authorization: Bearer $admin" "$url/v1/requests/prod"

cat >"$work/approve.lua" <<'EOF'
-- Each request approves a different pending ticket: thread t of T takes
-- PR-2026-(t+1), PR-2026-(t+1+T), ...
local count = 0
function setup(thread)
  count = count + 1
  thread:set("first", count)
end
function init(args)
  step = #args > 0 and tonumber(args[1]) or 1
  next_id = first
  wrk.method = "POST"
  wrk.body = '{"comment":"benchmark"}'
  wrk.headers["Content-Type"] = "application/json"
end
function request()
  local path = string.format("/v1/requests/prod/PR-2026-%04d/approve", next_id)
  next_id = next_id + step
  return wrk.format(nil, path)
end
EOF

results="$work/results"
: >"$results"
# bench THREADS CONNECTIONS LABEL TOKEN PATH [SCRIPT [SCRIPT ARGS...]]
bench() {
  local threads=$1 conns=$2 label=$3 tok=$4 path=$5; shift 5
  local out="$work/wrk.out" script=()
  if [ $# -gt 0 ]; then script=(-s "$1"); shift; fi
  wrk -t"$threads" -c"$conns" -d"${secs}s" --timeout 60s --latency \
    -H "Authorization: Bearer $tok" "${script[@]}" "$url$path" "$@" >"$out"
  echo "== $label (-t$threads -c$conns, ${secs}s)"
  cat "$out"
  local rps p50 p99 errors
  rps=$(awk '/^Requests\/sec:/ {print $2}' "$out")
  p50=$(awk '$1 == "50%" {print $2}' "$out")
  p99=$(awk '$1 == "99%" {print $2}' "$out")
  errors=$(awk '/Non-2xx or 3xx responses:/ {print $NF} /Socket errors:/ {print "socket:" $0}' "$out" | paste -sd' ')
  printf '%-44s %10s %10s %10s  %s\n' "$label" "$rps" "$p50" "$p99" "${errors:-}" >>"$results"
}

bench 2 4 "GET /v1/requests/prod (admin, $n)" "$admin" /v1/requests/prod
bench 2 4 "GET /v1/requests/prod/pending (tenant admin)" "$tadmin" /v1/requests/prod/pending
bench 2 4 "POST .../{id}/approve (distinct tickets)" "$tadmin" /v1/requests/prod/approve \
  "$work/approve.lua" 2

approved=$(curl -sf -H "Authorization: Bearer $admin" "$url/v1/requests/prod?state=approved" |
  python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
echo
echo "ipr serve, release build, $(nproc) cores, $n tickets; wrk ${secs}s per endpoint"
printf '%-44s %10s %10s %10s  %s\n' "endpoint" "req/s" "p50" "p99" "errors"
cat "$results"
echo "tickets approved during the run: $approved"
git -C "$repo" fsck --no-dangling --no-progress && echo "git fsck: clean"
test -z "$(git -C "$repo" rev-list --merges main)" && echo "no merge commits"
