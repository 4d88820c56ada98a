// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * dev_ring_pages (and dev_ring_pages_64k under qemu-aarch64 -p 65536 in an
 * arm64 build): ring halves must be whole kernel pages, the header a whole
 * page (docs/DEVICE.md, "64 KiB kernel pages"). With 64 KiB pages the
 * kernel pads each ring header to 64 KiB and sizes the rings in 64 KiB
 * pages; a ring size that is a multiple of 4 KiB only (2 MiB + 4 KiB, as
 * a 4 KiB kernel makes it) cannot be split there and open refuses it with
 * -EPROTO and a message. A plain program (Criterion's runner does not start
 * under qemu-aarch64 -p 65536).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <uvmbus/dev.h>

#include "fake_sysfs.h"
#include "mem_fixture.h" /* log sink */

#define DEV_GUID "1a2b3c4d-0000-4000-8000-00000000abcd"

static int fails;

/* Open a device whose rings are `half` bytes each; expect `want`. */
static void check(size_t half, int want, const char *msg)
{
	struct fake_tree tree;
	struct log_sink sink = {0};
	struct uvmbus_dev_opts o;
	struct uvmbus_dev *d = NULL;
	int rc;

	fake_tree_init(&tree);
	fake_add_azblob(&tree, DEV_GUID, -1, half);
	o = fake_dev_opts(&tree, sink_log(&sink));
	rc = uvmbus_dev_open(&d, DEV_GUID, &o);
	if (rc != want || (msg && !strstr(sink.text, msg))) {
		printf("FAIL: rings of %zu bytes, page %ld: %d (%s), expected %d%s%s\n%s\n", half,
		       sysconf(_SC_PAGESIZE), rc, strerror(-rc), want, msg ? " and " : "",
		       msg ? msg : "", sink.text);
		fails++;
	} else {
		printf("ok: rings of %zu bytes, page %ld: %d%s%s\n", half, sysconf(_SC_PAGESIZE),
		       rc, rc ? ": " : "", rc ? strerror(-rc) : "");
	}
	if (!rc)
		uvmbus_dev_close(d);
	fake_tree_fini(&tree);
}

int main(void)
{
	long page = sysconf(_SC_PAGESIZE);

	/* 2 MiB + 4 KiB per ring: whole pages of 4 KiB only. */
	if (page == 4096)
		check((2u << 20) + 4096, 0, NULL);
	else
		check((2u << 20) + 4096, -EPROTO, "is not two rings of whole pages");
	/* 2 MiB + one page (a page-sized header): fine whatever the page. */
	check((2u << 20) + (size_t)page, 0, NULL);
	printf("dev_ring_pages (page %ld): %d failed\n", page, fails);
	return fails != 0;
}
