#!/usr/bin/env bash
# bind_private_checkout: the bats cases that run something as another user
# (uid 65534 through setpriv, tagged other_user), run from a copy of the
# checkout inside a directory only root may enter (mode 0700, as root's home
# /root is): where a new user's clone is. The copy is of the working tree
# (tracked and new files), so uncommitted changes are what runs.
#   private_checkout.sh SRC
set -euo pipefail

die() {
	echo "private_checkout.sh: $*" >&2
	exit 1
}
[ $# -eq 1 ] || die "usage: private_checkout.sh SRC"
src=$1
[ "$(id -u)" -eq 0 ] || die "needs root (the cases switch to uid 65534 with setpriv)"
command -v bats >/dev/null || die "bats is missing: run scripts/deps.sh test"
command -v setpriv >/dev/null || die "setpriv is missing (util-linux)"

# Every test that runs something as another user carries the tag, so that
# the filter below cannot leave one out.
untagged=$(awk '
	FNR == 1 { pending = 0; tagged = 0; name = "" }
	/^# bats test_tags=/ { pending = ($0 ~ /other_user/); next }
	/^@test / { name = $0; tagged = pending; pending = 0; next }
	/run_as_nobody|setpriv/ && name != "" && !tagged { print FILENAME ": " name; name = "" }
' "$src"/tests/bind/*.bats)
[ -z "$untagged" ] || die "tests that run as another user without '# bats test_tags=other_user':
$untagged"
want=$(cat "$src"/tests/bind/*.bats | grep -c '^# bats test_tags=.*other_user' || true)
[ "$want" -gt 0 ] || die "no test is tagged other_user"

home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT
chmod 0700 "$home"
co=$home/uvmbus
mkdir "$co"
if git -C "$src" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	(cd "$src" && git ls-files -co --exclude-standard -z | tar --null -T - -cf -) | tar -xf - -C "$co"
else # a source tarball
	tar -C "$src" --exclude=./build -cf - . | tar -xf - -C "$co"
fi
# The premise: the other user cannot reach the checkout.
if setpriv --reuid=65534 --regid=65534 --clear-groups test -x "$co/scripts/bind_uio.sh"; then
	die "uid 65534 can run $co/scripts/bind_uio.sh: the copy is not private"
fi

echo "== bats --filter-tags other_user in $co (mode 0700 above it)"
set +e
out=$(cd / && bats --tap --filter-tags other_user "$co/tests/bind" 2>&1)
rc=$?
set -e
printf '%s\n' "$out"
[ "$rc" -eq 0 ] || die "bats failed in a private checkout (exit $rc)"
ran=$(grep -c '^ok ' <<<"$out" || true)
[ "$ran" -eq "$want" ] || die "$ran tests passed, $want are tagged other_user"
echo "the $ran other-user cases pass from a checkout under a 0700 directory: OK"
