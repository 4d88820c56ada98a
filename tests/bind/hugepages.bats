#!/usr/bin/env bats
# bind_uio.sh hugepages

load helpers

setup() {
	setup_tree
	GLOBAL=$S/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
	NODE0=$S/devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages
	NODE1=$S/devices/system/node/node1/hugepages/hugepages-2048kB/nr_hugepages
}

# fake_kernel_pool PATH BEFORE AFTER: nr_hugepages as a FIFO served by a
# stand-in kernel that shows BEFORE, takes the write, then shows AFTER (what
# it managed to reserve). The script reads, writes, reads back: one open each.
fake_kernel_pool() {
	rm -f "$1"
	mkfifo "$1"
	timeout 20 bash -c 'printf "%s\n" "$2" >"$1"; read -r _ <"$1"; printf "%s\n" "$3" >"$1"' \
		_ "$1" "$2" "$3" 3>&- >/dev/null 2>&1 &
	POOL_PID=$!
}

@test "hugepages N sets the global 2 MiB pool" {
	run "$SCRIPT" -v hugepages 64
	assert_status 0
	assert_eq "$(actions)" "write $GLOBAL 64"
	assert_eq "$(val "$GLOBAL")" 64
	assert_eq "$(val "$NODE0")" 0
	assert_output_has "hugepages: 64 pages of 2M reserved"
}

@test "hugepages N --node K sets that node's pool only" {
	run "$SCRIPT" -v hugepages 128 --node 1
	assert_status 0
	assert_eq "$(actions)" "write $NODE1 128"
	assert_eq "$(val "$NODE1")" 128
	assert_eq "$(val "$NODE0")" 0
	assert_eq "$(val "$GLOBAL")" 0
	assert_output_has "128 pages of 2M on node 1 reserved"
}

@test "hugepages --size 1G uses the 1 GiB pool" {
	run "$SCRIPT" hugepages 2 --size 1G
	assert_status 0
	assert_eq "$(val "$S/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages")" 2
}

@test "hugepages: the pool already has N pages: nothing written" {
	echo 32 >"$NODE0"
	local before
	before=$(snapshot)
	run "$SCRIPT" -v hugepages 32 --node 0
	assert_status 0
	assert_output_has "already 32 pages of 2M on node 0"
	assert_eq "$(actions)" ""
	assert_eq "$(snapshot)" "$before" "tree changed"
}

@test "hugepages: the kernel reserves fewer pages: clear failure" {
	fake_kernel_pool "$NODE1" 0 3
	run timeout 30 "$SCRIPT" hugepages 100 --node 1
	wait "$POOL_PID"
	assert_status 1
	assert_output_has "error: hugepages: asked for 100 pages of 2M on node 1, the kernel reserved only 3"
	assert_output_has "hugepages=100"
}

@test "hugepages: the kernel keeps pages in use when shrinking: clear failure" {
	fake_kernel_pool "$GLOBAL" 10 6
	run timeout 30 "$SCRIPT" hugepages 2
	wait "$POOL_PID"
	assert_status 1
	assert_output_has "asked for 2 pages of 2M, the kernel kept 6 (pages in use"
}

@test "hugepages: the kernel reserves exactly N: success" {
	fake_kernel_pool "$GLOBAL" 0 100
	run timeout 30 "$SCRIPT" hugepages 100
	wait "$POOL_PID"
	assert_status 0
}

@test "hugepages: a NUMA node that does not exist" {
	run "$SCRIPT" hugepages 8 --node 7
	assert_status 1
	assert_output_has "error: NUMA node 7 not found"
}

@test "hugepages: no pool of that size" {
	rm -rf "$S/kernel/mm/hugepages/hugepages-1048576kB"
	run "$SCRIPT" hugepages 1 --size 1G
	assert_status 1
	assert_output_has "no 1G hugepage pool"
}

@test "hugepages: bad arguments" {
	local args
	for args in "" "abc" "-1" "8 --node" "8 --node x" "8 --size 3M" "8 9"; do
		# shellcheck disable=SC2086
		run "$SCRIPT" hugepages $args
		assert_status 2
	done
}

@test "hugepages --dry-run prints the write and changes nothing" {
	local before
	before=$(snapshot)
	run "$SCRIPT" --dry-run hugepages 64 --node 0
	assert_status 0
	assert_eq "$(actions)" "write $NODE0 64"
	assert_eq "$(snapshot)" "$before" "tree changed"
}

# bats test_tags=other_user
@test "hugepages: not root" {
	local before
	before=$(snapshot)
	run_as_nobody hugepages 64
	assert_status 1
	assert_output_has "error: hugepages needs root"
	assert_eq "$(snapshot)" "$before" "tree changed"
}
