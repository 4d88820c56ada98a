/* GPA ranges: property tests of the base-pfn arithmetic against a slow
 * reference that walks a flat per-page table page by page, generated
 * run by run and copied from the flat table made at pin time
 * (pfn_table_flatten), into arrays and into wrapping ring spans. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>

#include "mem_internal.h"

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* A fake region at `va` (no memory behind it: pfns are arithmetic) whose
 * pages have the pfns in `flat` (copied). */
static void fake_region(struct uvmbus_region *r, uintptr_t va, size_t len, const uint64_t *flat,
			size_t n)
{
	uint64_t *copy = malloc(n * sizeof(*copy));

	memcpy(copy, flat, n * sizeof(*copy));
	memset(r, 0, sizeof(*r));
	r->addr = (uint8_t *)va;
	r->len = len;
	pfn_table_from_flat(&r->pfns, va, copy, n);
}

/* Flat table of n pages: hugepage runs (contiguous 512) or scattered. */
static uint64_t *make_flat(size_t n, bool huge_runs)
{
	uint64_t *f = malloc(n * sizeof(*f));

	for (size_t i = 0; i < n; i++) {
		if (huge_runs)
			f[i] = (i % 512 == 0) ? (rnd() % (1ull << 30)) * 512 : f[i - 1] + 1;
		else
			f[i] = rnd() % (1ull << 40);
	}
	return f;
}

/* The pfns of [off, off + len) through a span of 8 * n + 16 bytes that
 * wraps after `split` bytes (8-aligned), compared with want[0..n). */
static void check_span(const struct uvmbus_region *r, size_t off, size_t len, const uint64_t *want,
		       uint32_t n, size_t split)
{
	static uint8_t ring[8 * (8192 + 2) + 16];
	size_t total = 8u * n + 16u;
	struct uvmbus_ring_span s = {.p = {ring + sizeof(ring) - split, ring},
				     .n = {(uint32_t)split, (uint32_t)(total - split)},
				     .len = (uint32_t)total};
	uint8_t lin[sizeof(ring)];

	memset(ring, 0x5a, sizeof(ring));
	cr_assert_eq(uvmbus_region_pfns_to_span(r, off, len, &s, 8), 0);
	/* the span read back in order: p[0] (split bytes), then p[1] */
	memcpy(lin, s.p[0], split);
	memcpy(lin + split, ring, total - split);
	cr_assert_arr_eq(lin + 8, want, 8u * n, "span split at %zu, off %zu len %zu", split, off,
			 len);
	cr_assert_eq(lin[0], 0x5a, "nothing written before span_off");
	cr_assert_eq(lin[8 + 8 * n], 0x5a, "nothing written past the pfns");
}

static void check_random_ranges(bool huge_runs, uintptr_t va, size_t n_pages, int iters,
				bool flatten)
{
	uint64_t *flat = make_flat(n_pages, huge_runs);
	size_t len = n_pages * 4096 - (va & 4095);
	struct uvmbus_region r;
	static uint64_t got[8192 + 2];

	fake_region(&r, va, len, flat, n_pages);
	if (flatten) {
		pfn_table_flatten(&r.pfns, va, len);
		cr_assert_not_null(r.pfns.flat, "a table of %zu pages is flattened", n_pages);
		cr_assert(r.pfns.shift == 12 ? !r.pfns.flat_own : r.pfns.flat == r.pfns.flat_own,
			  "per-page tables are used as they are, granules expanded");
	} else {
		cr_assert_null(r.pfns.flat);
	}
	if (huge_runs && !(va & ((1u << 21) - 1)))
		cr_assert_eq(r.pfns.shift, 21u, "hugepage runs compress to 2 MiB granules");
	else if (!huge_runs)
		cr_assert_eq(r.pfns.shift, 12u, "scattered pages keep a flat table");

	for (int it = 0; it < iters; it++) {
		size_t maxlen = len < 8192u * 4096u ? len : 8192u * 4096u;
		size_t rl = 1 + rnd() % maxlen;
		size_t off = rnd() % (len - rl + 1);

		if (it % 8 == 0)
			rl = 1 + rnd() % 64, off = (rnd() % (len / 4096)) * 4096 + 4090;
		if (off + rl > len)
			off = len - rl;
		uint32_t pg_off, n = uvmbus_region_npfn(&r, off, rl);

		cr_assert_leq(n, 8193u);
		cr_assert_eq(uvmbus_region_pfns(&r, off, rl, got, &pg_off), 0);
		/* Slow reference: page by page through the flat table. */
		uintptr_t a = va + off;
		size_t first = (a >> 12) - (va >> 12);

		cr_assert_eq(pg_off, a & 4095);
		cr_assert_eq(n, ((a + rl - 1) >> 12) - (a >> 12) + 1);
		for (uint32_t i = 0; i < n; i++)
			cr_assert_eq(got[i], flat[first + i], "off %zu len %zu page %u", off, rl,
				     i);
		if (it % 4 == 0)
			check_span(&r, off, rl, got, n, 8 * (rnd() % (n + 3)));
	}
	pfn_table_free(&r.pfns);
	free(flat);
}

Test(mem_pfn, hugepage_runs_random_ranges)
{
	/* 40 MiB of 2 MiB pages: ranges up to the 8192-page maximum. */
	check_random_ranges(true, 0x7f0000000000ull, 20 * 512, 3000, false);
}

Test(mem_pfn, flat_table_random_ranges)
{
	check_random_ranges(false, 0x7f0000001000ull, 9000, 3000, false);
}

Test(mem_pfn, unaligned_start_keeps_flat)
{
	/* Contiguous runs but not 2 MiB-aligned in VA: cannot compress. */
	check_random_ranges(true, 0x7f0000003000ull, 2048, 500, false);
}

/* The same ranges copied from the flat table made at pin time. */
Test(mem_pfn, flattened_random_ranges)
{
	check_random_ranges(true, 0x7f0000000000ull, 20 * 512, 3000, true);
	check_random_ranges(false, 0x7f0000001000ull, 9000, 3000, true);
	check_random_ranges(true, 0x7f0000003000ull, 2048, 500, true);
}

/* A region starting mid-granule: the flat table starts at its first page,
 * not at the granule's. */
Test(mem_pfn, flattened_from_mid_granule)
{
	uint64_t bases[3] = {0x1000, 0x9000, 0x4000}, want[700];
	uintptr_t va = 0x7c0000000000ull + 300 * 4096 + 123;
	size_t len = 1000 * 4096;
	struct uvmbus_region r;

	memset(&r, 0, sizeof(r));
	r.addr = (uint8_t *)va;
	r.len = len;
	cr_assert_eq(pfn_table_alloc(&r.pfns, va, len, 21), 0);
	memcpy(r.pfns.base, bases, sizeof(bases));
	cr_assert_eq(r.pfns.nbase, 3u);
	for (size_t i = 0; i < 700; i++) {
		size_t pg = 300 + 2 + i;

		want[i] = bases[pg / 512] + pg % 512;
	}
	pfn_table_flatten(&r.pfns, va, len);
	cr_assert_not_null(r.pfns.flat_own);
	uint64_t got[700];

	cr_assert_eq(uvmbus_region_pfns(&r, 2 * 4096, 699 * 4096, got, NULL), 0);
	cr_assert_arr_eq(got, want, sizeof(want));
	check_span(&r, 2 * 4096, 699 * 4096, want, 700, 8 * 211);
	pfn_table_free(&r.pfns);
}

/* Past PFN_FLAT_MAX_PAGES no table is made (its bases alone describe
 * the region): the pfns are generated, the same ones. */
Test(mem_pfn, no_flat_table_past_the_cap)
{
	size_t len = (PFN_FLAT_MAX_PAGES + 512) * 4096;
	uintptr_t va = 0x600000000000ull;
	struct uvmbus_region r;
	uint64_t got[3];

	memset(&r, 0, sizeof(r));
	r.addr = (uint8_t *)va;
	r.len = len;
	cr_assert_eq(pfn_table_alloc(&r.pfns, va, len, 21), 0);
	for (size_t g = 0; g < r.pfns.nbase; g++)
		r.pfns.base[g] = (uint64_t)(r.pfns.nbase - g) << 9;
	pfn_table_flatten(&r.pfns, va, len);
	cr_assert_null(r.pfns.flat, "a %zu-page region keeps its %zu bases only", len / 4096,
		       r.pfns.nbase);
	/* the last two pages: 510 and 511 of the last granule (base 512) */
	cr_assert_eq(uvmbus_region_npfn(&r, len - 4096 - 10, 20), 2u);
	cr_assert_eq(uvmbus_region_pfns(&r, len - 4096 - 10, 20, got, NULL), 0);
	cr_expect_eq(got[0], 512u + 510u);
	cr_expect_eq(got[1], 512u + 511u);
	pfn_table_free(&r.pfns);
}

Test(mem_pfn, max_request_from_16_bases)
{
	uint64_t *flat = make_flat(16 * 512, true);
	struct uvmbus_region r;
	static uint64_t got[8192];

	fake_region(&r, 0x7e0000000000ull, 32u << 20, flat, 16 * 512);
	cr_assert_eq(r.pfns.nbase, 16u, "32 MiB is described by 16 bases");
	cr_assert_eq(uvmbus_region_npfn(&r, 0, 32u << 20), 8192u);
	cr_assert_eq(uvmbus_region_pfns(&r, 0, 32u << 20, got, NULL), 0);
	cr_assert_arr_eq(got, flat, sizeof(got));
	pfn_table_free(&r.pfns);
	free(flat);
}

Test(mem_pfn, bounds)
{
	uint64_t flat[4] = {10, 11, 12, 13}, out[8];
	struct uvmbus_region r;

	fake_region(&r, 0x10000, 4 * 4096, flat, 4);
	cr_expect_eq(uvmbus_region_pfns(&r, 0, 0, out, NULL), -EINVAL, "empty");
	cr_expect_eq(uvmbus_region_pfns(&r, 1, 4 * 4096, out, NULL), -EINVAL, "past the end");
	cr_expect_eq(uvmbus_region_pfns(&r, SIZE_MAX, 2, out, NULL), -EINVAL, "overflow");
	cr_expect_eq(uvmbus_region_npfn(&r, 4 * 4096, 1), 0u);
	cr_expect_eq(uvmbus_region_pfns(&r, 4095, 2, out, NULL), 0, "straddles two pages");
	cr_expect_eq(out[0], 11u - 1u);
	cr_expect_eq(out[1], 11u);
	pfn_table_free(&r.pfns);
}

Test(mem_pfn, into_a_wrapping_ring_span)
{
	uint64_t *flat = make_flat(1024, true);
	struct uvmbus_region r;
	uint8_t a[40], b[200];
	struct uvmbus_ring_span s = {.p = {a, b}, .n = {40, 200}, .len = 240};
	uint64_t want[20];

	fake_region(&r, 0x7d0000000000ull, 4u << 20, flat, 1024);
	/* 20 pages starting 3 pages before a 2 MiB boundary, written at span
	 * offset 16: pfns 0-2 before the wrap, the rest after. */
	size_t off = (512 - 3) * 4096 + 100;

	cr_assert_eq(uvmbus_region_npfn(&r, off, 19 * 4096), 20u);
	cr_assert_eq(uvmbus_region_pfns_to_span(&r, off, 19 * 4096, &s, 16), 0);
	cr_assert_eq(uvmbus_region_pfns(&r, off, 19 * 4096, want, NULL), 0);
	cr_expect_arr_eq(a + 16, want, 24);
	cr_expect_arr_eq(b, (uint8_t *)want + 24, 17 * 8);
	cr_expect_eq(want[3], flat[512], "crosses into the next hugepage's base");
	cr_expect_eq(uvmbus_region_pfns_to_span(&r, off, 19 * 4096, &s, 88), -EINVAL,
		     "does not fit the span");
	pfn_table_free(&r.pfns);
	free(flat);
}

/* The pagemap backend's pfns with 4, 16 and 64 KiB kernel pages: each
 * 4 KiB of a kernel page is its own Hyper-V pfn, 16 per 64 KiB page. */
Test(mem_pfn, hvpfn_of_kernel_page_sizes)
{
	static const unsigned shifts[] = {12, 14, 16};

	for (unsigned s = 0; s < 3; s++) {
		unsigned sh = shifts[s];
		uint64_t per = 1ull << (sh - 12);

		for (uintptr_t va = 0x7f0000000000u; va < 0x7f0000000000u + 4 * (1u << sh);
		     va += 512) {
			uint64_t kpfn = 0x1234 + (va >> sh) % 7;
			uint64_t want = ((kpfn << sh) | (va & ((1u << sh) - 1))) >> 12;

			cr_assert_eq(hvpfn_of(kpfn, sh, va), want, "shift %u va %#lx", sh,
				     (unsigned long)va);
		}
		cr_expect_eq(hvpfn_of(3, sh, (uintptr_t)5 << sh), 3 * per);
		cr_expect_eq(hvpfn_of(3, sh, ((uintptr_t)5 << sh) + (1u << sh) - 1),
			     3 * per + per - 1);
	}
}
