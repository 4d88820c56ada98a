/* Buffer pools: O(1) get/put, exhaustion, double put caught, buffers know
 * their pfns (runs under ASan for leaks). */
#include <criterion/criterion.h>
#include <errno.h>

#include "mem_fixture.h"

static struct uvmbus_mem *open_sim(int *fd)
{
	struct uvmbus_mem_opts o;
	struct uvmbus_mem *m;

	*fd = guest_ram(16u << 20);
	cr_assert_geq(*fd, 0);
	uvmbus_mem_opts_init(&o);
	o.backend = UVMBUS_PIN_MEMFD;
	o.memfd = *fd;
	o.memfd_size = 16u << 20;
	cr_assert_eq(uvmbus_mem_open(&m, &o), 0);
	return m;
}

Test(mem_pool, get_put_exhaustion_double_put)
{
	int fd;
	struct uvmbus_mem *m = open_sim(&fd);
	struct uvmbus_pool *p, *q;
	struct uvmbus_buf *b[100];
	struct uvmbus_mem_stats st;

	cr_assert_eq(uvmbus_pool_create(m, 1000, 100, &p), 0);
	cr_assert_eq(uvmbus_pool_create(m, 64, 4, &q), 0);
	cr_expect_eq(uvmbus_pool_available(p), 100u);
	for (int i = 0; i < 100; i++) {
		b[i] = uvmbus_pool_get(p);
		cr_assert_not_null(b[i]);
		cr_expect_eq((uintptr_t)b[i]->addr % 64, 0u, "cache-line aligned");
		cr_expect_eq(b[i]->len, 1000u);
		for (int j = 0; j < i; j++)
			cr_assert_neq(b[i]->addr, b[j]->addr);
	}
	cr_expect_null(uvmbus_pool_get(p), "exhausted");
	cr_expect_eq(uvmbus_pool_destroy(p), -EBUSY);
	cr_expect_eq(uvmbus_mem_close(m), -EBUSY);

	cr_expect_eq(uvmbus_pool_put(p, b[7]), 0);
	cr_expect_eq(uvmbus_pool_put(p, b[7]), -EALREADY, "double put caught");
	cr_expect_eq(uvmbus_pool_available(p), 1u, "and not pushed twice");
	struct uvmbus_buf *other = uvmbus_pool_get(q);

	cr_expect_eq(uvmbus_pool_put(p, other), -EINVAL, "buffer of another pool");
	cr_expect_eq(uvmbus_pool_get(p), b[7], "LIFO: the hot buffer comes back");
	uvmbus_mem_get_stats(m, &st);
	cr_expect_eq(st.double_puts, 1u);

	for (int i = 0; i < 100; i++)
		cr_assert_eq(uvmbus_pool_put(p, b[i]), 0);
	cr_assert_eq(uvmbus_pool_put(q, other), 0);
	cr_assert_eq(uvmbus_pool_destroy(p), 0);
	cr_assert_eq(uvmbus_pool_destroy(q), 0);
	cr_assert_eq(uvmbus_mem_close(m), 0);
	close(fd);
}

Test(mem_pool, buffers_know_their_pfns)
{
	int fd;
	struct uvmbus_mem *m = open_sim(&fd);
	struct uvmbus_pool *p;
	uint64_t a[4], b[4];
	static struct uvmbus_buf *got[600];

	cr_assert_eq(uvmbus_pool_create(m, 5000, 600, &p), 0); /* spans two hugepages */
	for (uint32_t i = 0; i < 600; i++) {
		struct uvmbus_buf *x = got[i] = uvmbus_pool_get(p);
		uint32_t n = uvmbus_region_npfn(x->region, x->region_off, x->len);

		cr_assert_leq(n, 3u);
		cr_assert_eq(uvmbus_region_pfns(x->region, x->region_off, x->len, a, NULL), 0);
		/* independent: a region registered over the same bytes */
		struct uvmbus_region *r;

		cr_assert_eq(uvmbus_mem_register(m, x->addr, x->len, &r), 0);
		cr_assert_eq(uvmbus_region_pfns(r, 0, x->len, b, NULL), 0);
		cr_assert_arr_eq(a, b, n * sizeof(uint64_t));
		cr_assert_eq(uvmbus_region_release(r), 0);
	}
	for (uint32_t i = 0; i < 600; i++)
		uvmbus_pool_put(p, &(struct uvmbus_buf){.index = i});
	cr_expect_eq(uvmbus_pool_available(p), 0u, "copies of handles are refused");
	cr_expect_eq(uvmbus_pool_destroy(p), -EBUSY);
	for (uint32_t i = 0; i < 600; i++)
		cr_assert_eq(uvmbus_pool_put(p, got[i]), 0);
	cr_assert_eq(uvmbus_pool_destroy(p), 0);
	cr_assert_eq(uvmbus_mem_close(m), 0);
	close(fd);
}

Test(mem_pool, bad_arguments)
{
	int fd;
	struct uvmbus_mem *m = open_sim(&fd);
	struct uvmbus_pool *p;

	cr_expect_eq(uvmbus_pool_create(m, 0, 10, &p), -EINVAL);
	cr_expect_eq(uvmbus_pool_create(m, 10, 0, &p), -EINVAL);
	cr_expect_eq(uvmbus_pool_create(m, 1u << 20, 64, &p), -ENOMEM, "bigger than guest RAM");
	cr_assert_eq(uvmbus_mem_close(m), 0);
	close(fd);
}
