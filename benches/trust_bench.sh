#!/usr/bin/env bash
# What verifying before acting costs (SPEC §10a). Not part of `cargo test`.
#
#   benches/trust_bench.sh [TICKETS]      (default 10000; try 100000)
#   FIRST_RUN=0 benches/trust_bench.sh 100000   skip the first full walk
#
# Builds a clone whose history is the admin's setup and then TICKETS
# `ipr create` commits, each exactly as ipr writes it (author, time,
# message and trailers; generated with git fast-import, so 100,000 take
# seconds), then prints the cost of the check alone (examples/trust_bench.rs:
# fresh clone, remembered verified point, one new commit since it) and
# end-to-end times of `ipr create` and `ipr approve` on a fresh clone and
# with the point remembered. Release build, so run it on a quiet machine.
set -euo pipefail
n=${1:-10000}
root=$(cd "$(dirname "$0")/.." && pwd)
cargo build --release --quiet --manifest-path "$root/Cargo.toml" --bin ipr --example trust_bench
target=${CARGO_TARGET_DIR:-$root/target}/release
ipr="$target/ipr"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
repo="$work/gitops"
export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1 HOME="$work" IPR_NOW=2026-11-30T12:00:00Z
git init -q -b main "$repo"
git -C "$repo" config user.email ops-lead@example.com
git -C "$repo" config user.name ops-lead
GIT_AUTHOR_DATE=2025-12-31T09:00:00Z GIT_COMMITTER_DATE=2025-12-31T09:00:00Z \
  "$ipr" -C "$repo" init --tenant tenant-finance -q
cp "$root/fixtures/config/team.yaml" "$repo/.ipr/config.yaml"
GIT_AUTHOR_DATE=2025-12-31T10:00:00Z GIT_COMMITTER_DATE=2025-12-31T10:00:00Z \
  git -C "$repo" commit -qam "team config"

start=$(date +%s)
python3 "$root/benches/gen_tickets.py" creates "$n" | git -C "$repo" fast-import --quiet
git -C "$repo" reset -q --hard main
git -C "$repo" gc -q
echo "generated $n requests ($(git -C "$repo" rev-list --count HEAD) commits) in $(( $(date +%s) - start ))s"

if [ "${FIRST_RUN:-1}" = 0 ]; then
  "$target/examples/trust_bench" "$repo" --no-first-run
  exit 0
fi
"$target/examples/trust_bench" "$repo"

rm -rf "$repo/.git/ipr"
time_it() {
  local label=$1; shift
  /usr/bin/time -f "%e" -o "$work/t" "$@" >/dev/null
  printf '%-52s %6.2f s\n' "$label" "$(cat "$work/t")"
}
git -C "$repo" config user.email jean.dupont@example.com
time_it "ipr approve on a fresh clone (verifies everything)" "$ipr" -C "$repo" approve PR-2026-0001 -q
time_it "ipr approve, verified point remembered" "$ipr" -C "$repo" approve PR-2026-0002 -q
git -C "$repo" config user.email pierre.durand@example.com
time_it "ipr create, verified point remembered" "$ipr" -C "$repo" create --no-input -q \
  --type api --name bench --version 1.0.0 --tenant tenant-finance --impact low \
  --justification "Benchmark request, timed end to end" --rollback-plan "Revert" \
  --staging-tests-passed --security-scan-passed --evidence-url https://ci.example.com/1
"$ipr" -C "$repo" verify -q && echo "ipr verify: clean"
