#!/usr/bin/env bash
# Benchmark: ipr on a gitops repo with many tickets.
#
#   benches/store_bench.sh [N]      (default N=100000)
#
# Generates a repo whose one commit, an admin's `ipr import`, holds N
# tickets in the exact form ipr writes (via git fast-import, so generation
# takes seconds), then times the first verification of that history (once
# per clone, SPEC §10a), single actions (create, approve, show) and
# whole-repo reads (list, stats) with a release build. Not part of
# `cargo test`.
set -euo pipefail
n=${1:-100000}
root=$(cd "$(dirname "$0")/.." && pwd)
cargo build --release --quiet --manifest-path "$root/Cargo.toml"
ipr="${CARGO_TARGET_DIR:-$root/target}/release/ipr"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
repo="$work/gitops"
export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1 IPR_NOW=2026-06-30T12:00:00Z
git init -q -b main "$repo"
git -C "$repo" config user.email ops-lead@example.com
git -C "$repo" config user.name ops-lead
"$ipr" -C "$repo" init --tenant tenant-finance -q
cp "$root/fixtures/config/team.yaml" "$repo/.ipr/config.yaml"
git -C "$repo" commit -qam "team config"

echo "generating $n tickets..."
start=$(date +%s.%N)
python3 "$root/benches/gen_tickets.py" import "$n" | git -C "$repo" fast-import --quiet
git -C "$repo" reset -q --hard main
printf 'generated in %.1fs\n' "$(echo "$(date +%s.%N) - $start" | bc)"

time_it() {
  local label=$1; shift
  local t0 t1
  t0=$(date +%s.%N)
  "$@" >/dev/null
  t1=$(date +%s.%N)
  printf '%-34s %8.3fs\n' "$label" "$(echo "$t1 - $t0" | bc)"
}

time_it "first verification (once per clone)" "$ipr" -C "$repo" verify -q
time_it "list, verifying the import (once)" "$ipr" -C "$repo" list --state approved
git -C "$repo" config user.email pierre.durand@example.com
time_it "create (N+1st ticket)" "$ipr" -C "$repo" create --type api --name bench --version 1.0.0 \
  --tenant tenant-finance --impact low --justification "Benchmark request, timed" \
  --rollback-plan "Revert" --staging-tests-passed --security-scan-passed \
  --evidence-url https://ci.example.com/1 --no-input -q
git -C "$repo" config user.email jean.dupont@example.com
time_it "approve PR-2026-0001" "$ipr" -C "$repo" approve PR-2026-0001 -q
time_it "show PR-2026-$(printf %04d "$n")" "$ipr" -C "$repo" show "PR-2026-$(printf %04d "$n")"
time_it "list --state approved (all parsed)" "$ipr" -C "$repo" list --state approved
time_it "stats --format json" "$ipr" -C "$repo" stats --format json
echo "git status after the actions:"
git -C "$repo" status --porcelain | head -5
git -C "$repo" fsck --no-dangling && echo "git fsck: clean"
