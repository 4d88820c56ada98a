// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * azblob_register_e2e: registered caller memory under the emulator, as on
 * a device: the host reads (PUT) and writes (GET) the caller's own pages
 * in place, no copy in the guest (stats.copied stays), for every kind of
 * memory (malloc from the heap and by mmap, anonymous mmap, memfd,
 * hugetlbfs, a range that straddles two mappings); byte for byte both
 * ways; the emulator counts no violation; a pfn outside guest RAM and
 * every region of the memory table is the pfn_outside_ram violation.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include <azblob/blob.h>

#include "azblob_fixture.h"
#include "sim_guest.h"

#ifndef MFD_HUGETLB
#define MFD_HUGETLB 0x0004U
#endif

#define MB (1024u * 1024u)

static char *req, *resp;

static void open_all(void)
{
	start(0, 16, 64 * 1024, 8, -1);
	req = azblob_alloc(cl, 4096);
	resp = azblob_alloc(cl, 4096);
	cr_assert(req && resp);
	cr_assert(azblob_registers_in_place(cl), "the emulator keeps a memory table");
}

static int sync_call(const char *head, void *data, uint32_t len, uint32_t valid)
{
	struct azblob_request_sync_abi a = {0};

	strcpy(req, head);
	memset(resp, 0, 4096);
	a.request_buffer = (uintptr_t)req;
	a.request_len = (uint32_t)strlen(head);
	a.response_buffer = (uintptr_t)resp;
	a.response_len = 4096;
	a.data_buffer = (uintptr_t)data;
	a.data_len = len;
	a.data_valid = valid;
	a.timeout = 10000;
	int rc = azblob_request_sync(cl, &a);

	return rc ? rc : (int)a.response.status;
}

static uint8_t pat(uint64_t seed, size_t i)
{
	return (uint8_t)((i * 2654435761u + seed) >> 7);
}

/* PUT [p, p + len) (the host reads it), clear it, GET it back (the host
 * writes it): equal byte for byte, no copy, no violation. */
static void roundtrip(const char *kind, uint8_t *p, size_t len, uint64_t seed)
{
	char head[128];
	uint64_t copied = cstats().copied;

	for (size_t i = 0; i < len; i++)
		p[i] = pat(seed, i);
	snprintf(head, sizeof(head), "PUT /ctr/%s HTTP/1.1\r\n\r\n", kind);
	cr_assert_eq(sync_call(head, p, (uint32_t)len, (uint32_t)len), 0, "%s put: %s\n%s", kind,
		     resp, sink.text);
	cr_expect(!strncmp(resp, "HTTP/1.1 201", 12), "%s put: %s", kind, resp);
	memset(p, 0, len);
	snprintf(head, sizeof(head), "GET /ctr/%s HTTP/1.1\r\n\r\n", kind);
	cr_assert_eq(sync_call(head, p, (uint32_t)len, 0), 0, "%s get", kind);
	cr_expect(!strncmp(resp, "HTTP/1.1 200", 12), "%s get: %s", kind, resp);
	size_t bad = len;

	for (size_t i = 0; i < len && bad == len; i++)
		if (p[i] != pat(seed, i))
			bad = i;
	cr_expect_eq(bad, len, "%s: byte %zu of %zu differs", kind, bad, len);
	cr_expect_eq(cstats().copied, copied, "%s: copied in the guest", kind);
	cr_expect_eq(sstats().violations_total, 0u, "%s: violations", kind);
}

static void reg_roundtrip(const char *kind, uint8_t *base, size_t len, size_t off, size_t n)
{
	cr_assert_eq(azblob_register(cl, base, len), 0, "%s: %s", kind, sink.text);
	roundtrip(kind, base + off, n, len + off);
	cr_expect_eq(azblob_unregister(cl, base), 0, "%s", kind);
}

TestSuite(azblob_register_e2e, .fini = stop);

Test(azblob_register_e2e, malloc_heap_and_mmap)
{
	open_all();
	cr_assert_eq(sync_call("PUT /ctr?restype=container HTTP/1.1\r\n\r\n", NULL, 0, 0), 0);
	uint8_t *small = malloc(100000); /* the heap (brk) */
	uint8_t *big = malloc(3 * MB);	 /* glibc: its own mmap */

	cr_assert(small && big);
	reg_roundtrip("malloc-heap", small, 100000, 17, 100000 - 17);
	reg_roundtrip("malloc-mmap", big, 3 * MB, 4095, 2 * MB + 12345);
	free(small);
	free(big);
}

Test(azblob_register_e2e, anonymous_mmap_and_memfd)
{
	open_all();
	cr_assert_eq(sync_call("PUT /ctr?restype=container HTTP/1.1\r\n\r\n", NULL, 0, 0), 0);
	uint8_t *anon =
	    mmap(NULL, 4 * MB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int fd = memfd_create("azblob-register-e2e", MFD_CLOEXEC);

	cr_assert(anon != MAP_FAILED && fd >= 0);
	cr_assert_eq(ftruncate(fd, 4 * MB), 0);
	uint8_t *mf = mmap(NULL, 4 * MB, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	cr_assert(mf != MAP_FAILED);
	reg_roundtrip("anon-mmap", anon, 4 * MB, 100, 3 * MB);
	sink.text[0] = 0;
	reg_roundtrip("memfd", mf, 4 * MB, 5000, 3 * MB + 7);
	cr_expect(strstr(sink.text, "mapped from its file"), "the host maps the memfd: %s",
		  sink.text);
	/* the host's writes are in the file itself: read through the fd */
	uint8_t b[64];

	cr_assert_eq(pread(fd, b, sizeof(b), 5000), (ssize_t)sizeof(b));
	for (size_t i = 0; i < sizeof(b); i++)
		cr_expect_eq(b[i], pat(4 * MB + 5000, i), "the file holds the host's bytes");
	munmap(anon, 4 * MB);
	munmap(mf, 4 * MB);
	close(fd);
}

static long hp_saved = -1;

static void hp_restore(void)
{
	stop();
	if (hp_saved >= 0)
		nr_hugepages_write(hp_saved);
}

Test(azblob_register_e2e, hugetlbfs, .fini = hp_restore)
{
	int fd = memfd_create("azblob-register-e2e-huge", MFD_CLOEXEC | MFD_HUGETLB);
	uint8_t *h = MAP_FAILED;

	hp_saved = nr_hugepages_read();
	if (fd >= 0 && hp_saved >= 0) {
		nr_hugepages_write(hp_saved + 2);
		if (!ftruncate(fd, 4 * MB))
			h = mmap(NULL, 4 * MB, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
				 fd, 0);
	}
	if (h == MAP_FAILED) {
		fprintf(
		    stderr,
		    "\n*** azblob_register_e2e.hugetlbfs SKIPPED: no 2 MiB huge page could be "
		    "reserved (nr_hugepages %ld, memfd %d): hugetlbfs memory NOT tested ***\n\n",
		    hp_saved, fd);
		if (fd >= 0)
			close(fd);
		cr_skip_test("no huge page could be reserved");
	}
	open_all();
	cr_assert_eq(sync_call("PUT /ctr?restype=container HTTP/1.1\r\n\r\n", NULL, 0, 0), 0);
	sink.text[0] = 0;
	reg_roundtrip("hugetlbfs", h, 4 * MB, 2 * MB - 3000, 2 * MB);
	cr_expect(strstr(sink.text, "mapped from its file"), "the host maps the hugetlbfs file: %s",
		  sink.text);
	munmap(h, 4 * MB);
	close(fd);
}

#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010
#endif

/* A memfd sealed against new writable mappings before the host took the
 * region (azblobd seals each client's arena at its first packet, right
 * after registering it: under load the emulator read the message after
 * the seal, its mmap failed with EPERM and every request of the session
 * failed with pfn_outside_ram). The host still reaches the caller's pages:
 * a device does not care about seals. */
Test(azblob_register_e2e, sealed_memfd)
{
	open_all();
	cr_assert_eq(sync_call("PUT /ctr?restype=container HTTP/1.1\r\n\r\n", NULL, 0, 0), 0);
	int fd = memfd_create("azblob-register-e2e-sealed", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	cr_assert(fd >= 0);
	cr_assert_eq(ftruncate(fd, 4 * MB), 0);
	uint8_t *mf = mmap(NULL, 4 * MB, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	cr_assert(mf != MAP_FAILED);
	cr_assert_eq(fcntl(fd, F_ADD_SEALS, F_SEAL_FUTURE_WRITE), 0, "F_SEAL_FUTURE_WRITE: %m");
	sink.text[0] = 0;
	reg_roundtrip("sealed-memfd", mf, 4 * MB, 8192, 3 * MB + 5);
	cr_expect_eq(sstats().region_errors, 0u, "region errors: %s", sink.text);
	munmap(mf, 4 * MB);
	close(fd);
}

/* One registered range over two mappings (memfd, then anonymous): split,
 * one region of the memory table per mapping, guest-physically
 * contiguous; a buffer across the seam moves in place. A buffer across
 * two separately registered ranges is plain memory: copied. */
Test(azblob_register_e2e, straddling_two_regions)
{
	open_all();
	cr_assert_eq(sync_call("PUT /ctr?restype=container HTTP/1.1\r\n\r\n", NULL, 0, 0), 0);
	uint8_t *r = mmap(NULL, 4 * MB, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int fd = memfd_create("azblob-register-e2e-seam", MFD_CLOEXEC);

	cr_assert(r != MAP_FAILED && fd >= 0 && !ftruncate(fd, 2 * MB));
	cr_assert(mmap(r, 2 * MB, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0) == r);
	cr_assert(mmap(r + 2 * MB, 2 * MB, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == r + 2 * MB);
	reg_roundtrip("seam", r, 4 * MB, MB, 2 * MB);

	cr_assert_eq(azblob_register(cl, r, 2 * MB), 0);
	cr_assert_eq(azblob_register(cl, r + 2 * MB, 2 * MB), 0);
	uint64_t copied = cstats().copied;

	for (size_t i = 0; i < 8192; i++)
		r[2 * MB - 4096 + i] = pat(9, i);
	cr_assert_eq(sync_call("PUT /ctr/two HTTP/1.1\r\n\r\n", r + 2 * MB - 4096, 8192, 8192), 0);
	memset(r + 2 * MB - 4096, 0, 8192);
	cr_assert_eq(sync_call("GET /ctr/two HTTP/1.1\r\n\r\n", r + 2 * MB - 4096, 8192, 0), 0);
	for (size_t i = 0; i < 8192; i++)
		cr_assert_eq(r[2 * MB - 4096 + i], pat(9, i));
	cr_expect_eq(cstats().copied, copied + 2, "across two registrations: copied");
	cr_expect_eq(azblob_unregister(cl, r), 0);
	cr_expect_eq(azblob_unregister(cl, r + 2 * MB), 0);
	cr_expect_eq(sstats().violations_total, 0u);
	munmap(r, 4 * MB);
	close(fd);
}

/* Unregistering memory the host may still write is refused. */
Test(azblob_register_e2e, unregister_while_host_may_write)
{
	struct done d = {0};

	open_all();
	uint8_t *m = malloc(MB);
	struct azblob_sim_faults f = {.stop_draining = true};

	cr_assert_eq(azblob_register(cl, m, MB), 0);
	azblob_sim_set_faults(sim, &f);
	struct azblob_request r = noop(req, (char *)m + 1000, &d);

	cr_assert_eq(azblob_submit(cl, &r), 0);
	azblob_flush(cl);
	cr_expect_eq(azblob_unregister(cl, m), -EBUSY, "the host may still write it");
	f.stop_draining = false;
	azblob_sim_set_faults(sim, &f);
	reap(&d);
	cr_expect_eq(d.calls, 1);
	cr_expect_eq(d.err, 0);
	cr_expect(!strncmp((char *)m + 1000, "HTTP/1.1 200", 12), "answer in caller memory");
	cr_expect_eq(azblob_unregister(cl, m), 0);
	free(m);
}

/* The host's side of the table, with a raw guest: a pfn of a registered
 * region is served (the answer lands in the caller's malloc memory), the
 * page after it, and the same page once unregistered, are pfn_outside_ram. */
Test(azblob_register_e2e, pfn_outside_every_region)
{
	struct azblob_sim_opts o;
	struct uvmbus_log log = sink_log(&sink);
	struct tguest t;
	struct uvmbus_region *rg;
	struct tcompl c;
	uint8_t pkt[256];
	static const char head[] = "GET /$sim/noop HTTP/1.1\r\n\r\n";

	azblob_sim_opts_init(&o);
	o.ram_bytes = 32u << 20;
	o.no_hugetlb = true;
	o.log = log;
	cr_assert_eq(tguest_open(&t, &o, &log), 0, "%s", sink.text);
	uint8_t *m = aligned_alloc(4096, 3 * 4096); /* malloc memory, whole pages */

	cr_assert_eq(uvmbus_mem_register(t.mem, m, 3 * 4096, &rg), 0, "%s", sink.text);
	memcpy(t.buf, head, sizeof(head) - 1);
	struct treq q = {.tid = 1,
			 .req_len = sizeof(head) - 1,
			 .resp_off = 8192,
			 .resp_len = 512,
			 .timeout_ms = 5000};
	uint64_t pfn[4], *last;
	size_t len = treq_build(&t, &q, pkt);

	last = (uint64_t *)(pkt + 32 + 8); /* the response's page (request, response) */
	cr_assert_eq(uvmbus_region_pfns(rg, 0, 3 * 4096, pfn, NULL), 0);
	cr_expect_geq(pfn[0], o.ram_bytes / 4096, "outside guest RAM");
	*last = pfn[2];
	cr_assert_eq(traw_send(&t, pkt, len, true), 0);
	cr_assert_eq(trecv(&t, &c, 5000), 0);
	cr_expect_eq(c.status, 0u, "a registered page is served");
	cr_expect(!strncmp((char *)m + 2 * 4096, "HTTP/1.1 200", 12), "written in place");

	*last = pfn[2] + 1; /* just past the region */
	pkt[8] = 2;
	cr_assert_eq(traw_send(&t, pkt, len, true), 0);
	cr_assert_eq(trecv(&t, &c, 5000), 0);
	cr_expect_eq(c.status, AZBLOB_VSP_STATUS_INVALID_PARAMETER);
	cr_expect_eq(tguest_stats(&t).violations[AZBLOB_SIM_V_PFN_OUTSIDE_RAM], 1u);

	cr_assert_eq(uvmbus_region_release(rg), 0);
	*last = pfn[2]; /* unregistered: no longer guest memory */
	pkt[8] = 3;
	cr_assert_eq(traw_send(&t, pkt, len, true), 0);
	cr_assert_eq(trecv(&t, &c, 5000), 0);
	cr_expect_eq(c.status, AZBLOB_VSP_STATUS_INVALID_PARAMETER);
	cr_expect_eq(tguest_stats(&t).violations[AZBLOB_SIM_V_PFN_OUTSIDE_RAM], 2u);
	cr_expect_eq(tguest_stats(&t).violations_total, 2u);
	tguest_close(&t);
	free(m);
}

/* The blob helpers given registered memory (docs/BLOB.md): azblob_blob_put
 * and azblob_blob_get let the host read and write it in place, each block
 * or range at its offset (the emulator's region_data_bytes grows by the
 * bytes moved, stats.copied stays); memory not registered (or only partly)
 * goes through pool buffers; byte for byte equal either way. */
Test(azblob_register_e2e, blob_helpers_in_place)
{
	const size_t len = MB + 1234; /* 22 blocks of 48 KiB, the last short */
	struct azblob_blob_status st;
	size_t got = 0;
	int fd = memfd_create("azblob-bulk", MFD_CLOEXEC);
	uint8_t *src, *dst, *plain = malloc(len);

	open_all();
	cr_assert(fd >= 0 && plain);
	cr_assert_eq(ftruncate(fd, (off_t)(2 * len)), 0);
	src = mmap(NULL, 2 * len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	cr_assert(src != MAP_FAILED);
	dst = src + len;
	for (size_t i = 0; i < len; i++)
		src[i] = pat(23, i);
	cr_assert_eq(azblob_container_create(cl, "bulk", &st), 0, "%s", sink.text);
	cr_assert_eq(azblob_register(cl, src, 2 * len), 0, "%s", sink.text);

	uint64_t copied = cstats().copied, r0 = sstats().region_data_bytes;

	cr_assert_eq(azblob_blob_put(cl, "bulk", "b", src, len, NULL, &st), 0, "%s", sink.text);
	cr_expect_eq(sstats().region_data_bytes - r0, len, "put: not all in place");
	cr_assert_eq(azblob_blob_get(cl, "bulk", "b", 0, dst, len, &got, NULL, &st), 0, "%s",
		     sink.text);
	cr_expect_eq(got, len);
	cr_expect(!memcmp(src, dst, len), "get in place differs");
	cr_expect_eq(sstats().region_data_bytes - r0, 2 * len, "get: not all in place");
	/* From an offset, into more room than the blob has left. */
	memset(dst, 0, len);
	cr_assert_eq(azblob_blob_get(cl, "bulk", "b", 100, dst, len, &got, NULL, &st), 0);
	cr_expect_eq(got, len - 100);
	cr_expect(!memcmp(src + 100, dst, len - 100), "ranged get in place differs");
	/* One Put Blob and one plain Get (its Content-MD5 checked in place). */
	struct azblob_blob_xfer x = {.blob_md5 = true};

	cr_assert_eq(azblob_blob_put(cl, "bulk", "small", src, 1000, &x, &st), 0, "%s", sink.text);
	memset(dst, 0, 1000);
	cr_assert_eq(azblob_blob_get(cl, "bulk", "small", 0, dst, 2000, &got, NULL, &st), 0);
	cr_expect_eq(got, 1000);
	cr_expect(!memcmp(src, dst, 1000), "small get in place differs");
	cr_expect_eq(cstats().copied, copied, "copied in the guest");

	/* Not registered (plain), and partly registered: pool buffers. */
	uint64_t r1 = sstats().region_data_bytes;

	memcpy(plain, src, len);
	cr_assert_eq(azblob_blob_put(cl, "bulk", "p", plain, len, NULL, &st), 0);
	memset(plain, 0, len);
	cr_assert_eq(azblob_blob_get(cl, "bulk", "p", 0, plain, len, &got, NULL, &st), 0);
	cr_expect(got == len && !memcmp(plain, src, len), "plain memory differs");
	cr_assert_eq(azblob_blob_get(cl, "bulk", "p", 0, src + len + 1, len, &got, NULL, &st), 0);
	cr_expect(got == len && !memcmp(src + len + 1, src, len - 1), "partly registered differs");
	cr_expect_eq(sstats().region_data_bytes, r1, "not registered, yet in place");
	cr_expect_eq(sstats().violations_total, 0u);
	cr_expect_eq(azblob_unregister(cl, src), 0);
	munmap(src, 2 * len);
	close(fd);
	free(plain);
}
