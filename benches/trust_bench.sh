#!/bin/sh
# What verifying before acting costs (SPEC §10a), on a history whose
# requests were all made the way ipr makes them (examples/gen_history.rs).
# Not part of `cargo test`.
#
#   benches/trust_bench.sh [TICKETS]      (default 10000; try 100000)
#
# Prints the cost of the check alone (examples/trust_bench.rs: fresh clone,
# remembered verified point, one new commit since it) and end-to-end times
# of `ipr create` on a fresh clone (first run) and then with the point
# remembered.
set -eu
TICKETS=${1:-10000}
# gen_history's mix makes 5 requests in 13 transitions.
N=$(( TICKETS * 13 / 5 ))
cd "$(dirname "$0")/.."
target=${CARGO_TARGET_DIR:-target}
cargo build --release --quiet --bin ipr --example gen_history --example trust_bench
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1 HOME="$work" IPR_NOW=2026-12-01T12:00:00Z
start=$(date +%s)
"$target/release/examples/gen_history" "$work/bench.git" "$N" >/dev/null
git clone -q "$work/bench.git" "$work/clone"
git -C "$work/clone" gc -q
echo "generated $TICKETS requests in $N transitions ($(git -C "$work/clone" rev-list --count HEAD) commits) in $(( $(date +%s) - start ))s"
"$target/release/examples/trust_bench" "$work/clone"
rm -rf "$work/clone/.git/ipr"
git -C "$work/clone" config user.email pierre.durand@example.com
git -C "$work/clone" config user.name pierre
create() {
    /usr/bin/time -f "$1: %e s" "$target/release/ipr" -C "$work/clone" create --no-input -q \
        --type api --name bench --version 1.0.0 --tenant tenant-finance --impact low \
        --justification "Benchmark request, timed end to end" --rollback-plan "Revert" \
        --staging-tests-passed --security-scan-passed --evidence-url https://ci.example.com/1 >/dev/null
}
create "ipr create on a fresh clone (verifies everything)"
create "ipr create, verified point remembered"
create "ipr create, again"
