#!/bin/sh
# Time `ipr verify` (release build) over a history of N ticket transitions
# (default 10000), written in exactly the form ipr writes them by
# examples/gen_history.rs. Not part of `cargo test`.
#
#   benches/verify_bench.sh [N]            unsigned history
#   SIGNED=1 benches/verify_bench.sh [N]   every commit ssh-signed, signing.required
set -eu
N=${1:-10000}
cd "$(dirname "$0")/.."
target=${CARGO_TARGET_DIR:-target}
cargo build --release --quiet --bin ipr --example gen_history
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
repo="$work/bench.git"
export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1 HOME="$work"
git init -q --bare -b main "$repo"
signers=
if [ "${SIGNED:-0}" = 1 ]; then
    ssh-keygen -q -t ed25519 -N '' -C bench -f "$work/key"
    key=$(cut -d' ' -f1,2 "$work/key.pub")
    for who in ops-lead pierre.durand jean.dupont anne.martin; do
        echo "$who@example.com $key"
    done >"$work/allowed_signers"
    signers="$work/allowed_signers"
    git -C "$repo" config gpg.format ssh
    git -C "$repo" config user.signingkey "$work/key"
    git -C "$repo" config commit.gpgsign true
fi
start=$(date +%s)
"$target/release/examples/gen_history" "$repo" "$N" $signers
echo "generated in $(( $(date +%s) - start ))s"
measure() {
    /usr/bin/time -f '%e s elapsed (%U s user, %S s system), %M KiB max RSS' \
        "$target/release/ipr" -C "$repo" verify
}
echo "ipr verify over $N transitions ($(git -C "$repo" rev-list --count main) commits), loose objects:"
measure
git -C "$repo" gc -q
echo "after git gc (packed, as a clone or a server has it):"
measure
