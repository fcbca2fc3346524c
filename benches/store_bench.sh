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
python3 - "$n" <<'PY' | git -C "$repo" fast-import --quiet
import sys
n = int(sys.argv[1])
out = sys.stdout
out.write("commit refs/heads/main\n")
out.write("author ops-lead <ops-lead@example.com> 1767225600 +0000\n")
out.write("committer ops-lead <ops-lead@example.com> 1767225600 +0000\n")
msg = f"ipr: import {n} tickets\n\nIpr-Action: import\nIpr-Actor: ops-lead@example.com\n"
out.write(f"data {len(msg)}\n{msg}")
out.write("from refs/heads/main^0\n")
for i in range(1, n + 1):
    month = (i * 6 // (n + 1)) + 1
    tid = f"PR-2026-{i:04d}"
    body = f"""apiVersion: gostoa.dev/v1
kind: PromotionRequest
metadata:
  id: {tid}
  createdAt: 2026-{month:02d}-01T10:00:00Z
  createdBy: pierre.durand@example.com
  tenant: tenant-finance
spec:
  target:
    type: api
    name: service-{i % 97}
    version: 1.{i % 13}.0
    sourceEnvironment: staging
    targetEnvironment: prod
  request:
    justification: Generated request number {i} for the benchmark
    releaseNotes: null
    impactAssessment: low
    rollbackPlan: Revert to the previous version
    scheduledDate: null
  preChecks:
    stagingTestsPassed: true
    securityScanPassed: true
    performanceTestsPassed: false
    testEvidenceUrl: https://ci.example.com/pipeline/{i}
status:
  state: pending
  history:
  - action: created
    at: 2026-{month:02d}-01T10:00:00Z
    by: pierre.durand@example.com
  approvedBy: null
  approvedAt: null
  deployedAt: null
  rejectedBy: null
  rejectedAt: null
  rejectionReason: null
"""
    out.write(f"M 100644 inline requests/prod/2026/{month:02d}/{tid}.yaml\n")
    out.write(f"data {len(body)}\n{body}\n")  # ASCII: bytes == chars
PY
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
