#!/usr/bin/env bash
# The figures of SPEC §14 and the README's "Scale" section, in one run.
# Not part of `cargo test`; no test depends on speed.
#
#   benches/scale.sh [TICKETS] [TRANSITIONS]     (default 100000 and 10000)
#   RUNS=7 benches/scale.sh                      (runs per figure, default 5)
#
# Builds two repositories with a release build:
#   A. TICKETS tickets in exactly the form ipr writes them, committed by an
#      admin's `ipr import` (benches/gen_tickets.py through git fast-import),
#      packed, with a work tree for `rg`;
#   B. TRANSITIONS ticket transitions, every commit ssh-signed and
#      `signing.required` (examples/gen_history.rs), packed.
# Then runs each figure RUNS times and prints the median wall time and the
# median peak memory, and the ratios against `rg` and `git` measured in the
# same run on the same data. Needs git, python3, rg, ssh-keygen and GNU time
# (/usr/bin/time).
set -euo pipefail
tickets=${1:-100000}
transitions=${2:-10000}
runs=${RUNS:-5}
root=$(cd "$(dirname "$0")/.." && pwd)
for tool in git python3 rg ssh-keygen /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "scale.sh: $tool is needed" >&2; exit 1; }
done
cargo build --release --quiet --manifest-path "$root/Cargo.toml" --bin ipr \
  --example gen_history --example trust_bench
target=${CARGO_TARGET_DIR:-$root/target}/release
ipr="$target/ipr"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1 HOME="$work" IPR_NOW=2026-06-30T12:00:00Z

# measure LABEL [--before CMD] -- COMMAND...: RUNS runs; prints and
# remembers (in $secs) the median seconds. CMD runs before each run, untimed.
declare -A median_of
measure() {
  local label=$1; shift
  local before=""
  if [ "$1" = --before ]; then before=$2; shift 2; fi
  shift # --
  local times=() rss=()
  for _ in $(seq "$runs"); do
    [ -n "$before" ] && eval "$before"
    local t0 t1
    t0=$(date +%s%N)
    /usr/bin/time -f "%M" -o "$work/time" "$@" >/dev/null 2>"$work/stderr" \
      || { cat "$work/stderr" >&2; exit 1; }
    t1=$(date +%s%N)
    times+=("$(( (t1 - t0) / 1000 ))e-6"); rss+=("$(cat "$work/time")")
  done
  local mt mm
  mt=$(printf '%s\n' "${times[@]}" | sort -g | sed -n "$(( (runs + 1) / 2 ))p")
  mm=$(printf '%s\n' "${rss[@]}" | sort -g | sed -n "$(( (runs + 1) / 2 ))p")
  median_of[$label]=$(python3 -c "print(f'{$mt:.3f}')")
  printf '  %-46s %7.3f s  %6d MB\n' "$label" "${median_of[$label]}" "$(( mm / 1024 ))"
}
ratio() { python3 -c "print(f'{$1 / max($2, 0.005):.2f}x')"; }

echo "== A: $tickets tickets"
repo="$work/tickets"
git init -q -b main "$repo"
git -C "$repo" config user.email ops-lead@example.com
git -C "$repo" config user.name ops-lead
"$ipr" -C "$repo" init --tenant tenant-finance -q
cp "$root/fixtures/config/team.yaml" "$repo/.ipr/config.yaml"
git -C "$repo" commit -qam "team config"
python3 "$root/benches/gen_tickets.py" import "$tickets" | git -C "$repo" fast-import --quiet
git -C "$repo" reset -q --hard main
git -C "$repo" gc -q
"$ipr" -C "$repo" verify -q
echo "  (medians of $runs runs; wall time, peak memory)"

cd "$repo"
measure "rg over the ticket files" -- rg --no-filename "state:" requests/prod
measure "ipr list --format json, cold (no cache)" --before "rm -rf .git/ipr/cache" -- \
  "$ipr" list --format json
measure "ipr list --format json, warm" -- "$ipr" list --format json
measure "ipr stats --format json, warm" -- "$ipr" stats --format json
git config user.email jean.dupont@example.com
measure "ipr list --pending --format json, warm" -- "$ipr" list --pending --format json
echo "  cache: $(du -h .git/ipr/cache/tickets | cut -f1)"
echo "  warm list / rg: $(ratio "${median_of["ipr list --format json, warm"]}" "${median_of["rg over the ticket files"]}")," \
  "stats / rg: $(ratio "${median_of["ipr stats --format json, warm"]}" "${median_of["rg over the ticket files"]}")," \
  "cold list / rg: $(ratio "${median_of["ipr list --format json, cold (no cache)"]}" "${median_of["rg over the ticket files"]}")"

# Single actions against git's own commit of one file in the same repo.
n=0
measure "git commit of one changed file" --before \
  "n=\$((n + 1)); echo \$n >> notes.txt; git add notes.txt" -- git commit -qm note
git reset -q --hard HEAD~"$runs"
n=0
measure "ipr approve" --before "n=\$((n + 1)); export ID=PR-2026-\$(printf %04d \$n)" -- \
  sh -c '"$0" approve "$ID" -q' "$ipr"
echo "  approve / git commit: $(ratio "${median_of["ipr approve"]}" "${median_of["git commit of one changed file"]}")"
echo "  verification before an action (examples/trust_bench.rs):"
"$target/examples/trust_bench" "$repo" --no-first-run | sed 's/^/    /'
cd "$root"

echo "== B: $transitions ssh-signed transitions"
ssh-keygen -q -t ed25519 -N '' -C bench -f "$work/key"
key=$(cut -d' ' -f1,2 "$work/key.pub")
for who in ops-lead pierre.durand jean.dupont marie.curie anne.martin; do
  echo "$who@example.com $key"
done >"$work/allowed_signers"
signed="$work/signed.git"
git init -q --bare -b main "$signed"
git -C "$signed" config gpg.format ssh
git -C "$signed" config user.signingkey "$work/key"
git -C "$signed" config commit.gpgsign true
"$target/examples/gen_history" "$signed" "$transitions" "$work/allowed_signers" >/dev/null
git -C "$signed" gc -q
echo "  ($(git -C "$signed" rev-list --count main) commits; medians of $runs runs)"
measure "ipr verify (every signature)" -- "$ipr" -C "$signed" verify
git -C "$signed" config gpg.ssh.allowedSignersFile "$work/allowed_signers"
runs_was=$runs; runs=1
measure "git log --format=%G? (git checks each, once)" -- \
  git -C "$signed" log --format=%G? main
runs=$runs_was
echo "  ipr verify / git log %G?: $(ratio "${median_of["ipr verify (every signature)"]}" "${median_of["git log --format=%G? (git checks each, once)"]}")"
