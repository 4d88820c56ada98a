/* The sim pinning backend: regions carved from a guest-RAM memfd; a pfn is
 * a page offset in it, so bytes written through the region are read back
 * through an independent mapping of the memfd at pfn * 4096. */
#include <criterion/criterion.h>
#include <errno.h>

#include "mem_fixture.h"

#define RAM	 (64u << 20)
#define WIN_OFF	 (8u << 20)
#define WIN_SIZE (32u << 20)

struct env {
	int fd;
	uint8_t *ram; /* the "host's" view of guest RAM */
	struct uvmbus_mem *mem;
	struct log_sink sink;
};

static void env_open(struct env *e)
{
	struct uvmbus_mem_opts o;

	e->fd = guest_ram(RAM);
	cr_assert_geq(e->fd, 0);
	e->ram = mmap(NULL, RAM, PROT_READ | PROT_WRITE, MAP_SHARED, e->fd, 0);
	cr_assert_neq(e->ram, MAP_FAILED);
	uvmbus_mem_opts_init(&o);
	o.backend = UVMBUS_PIN_MEMFD;
	o.memfd = e->fd;
	o.memfd_offset = WIN_OFF;
	o.memfd_size = WIN_SIZE;
	o.log = sink_log(&e->sink);
	cr_assert_eq(uvmbus_mem_open(&e->mem, &o), 0, "%s", e->sink.text);
	cr_assert_str_eq(uvmbus_mem_backend_name(e->mem), "memfd");
}

static void env_close(struct env *e)
{
	cr_assert_eq(uvmbus_mem_close(e->mem), 0);
	munmap(e->ram, RAM);
	close(e->fd);
}

Test(mem_sim, pfns_map_back_to_memfd_bytes)
{
	struct env e;
	struct uvmbus_region *r;
	static uint64_t pfn[2048];
	uint32_t pg;

	env_open(&e);
	cr_assert_eq(uvmbus_mem_alloc(e.mem, 5u << 20, &r), 0);
	cr_expect_eq(uvmbus_region_len(r), 5u << 20);
	uint8_t *a = uvmbus_region_addr(r);

	for (int it = 0; it < 200; it++) {
		size_t off = (size_t)(it * 26113u) % ((5u << 20) - 9000);
		size_t len = 1 + (size_t)(it * 7919u) % 9000;

		cr_assert_eq(uvmbus_region_pfns(r, off, len, pfn, &pg), 0);
		/* guest writes through its mapping, host reads at the pfns */
		for (size_t i = 0; i < len; i++)
			a[off + i] = (uint8_t)(it + i * 3);
		for (size_t i = 0; i < len; i++) {
			size_t x = pg + i;
			uint8_t host = e.ram[pfn[x / 4096] * 4096 + x % 4096];

			cr_assert_eq(host, (uint8_t)(it + i * 3), "it %d byte %zu", it, i);
		}
		/* and the other way: host writes at the pfn, guest sees it */
		e.ram[pfn[0] * 4096 + pg] = 0xa5;
		cr_assert_eq(a[off], 0xa5);
	}
	cr_expect_geq(pfn[0], WIN_OFF / 4096, "pfns are inside the window");
	cr_assert_eq(uvmbus_region_release(r), 0);
	env_close(&e);
}

Test(mem_sim, register_inside_window_only)
{
	struct env e;
	struct uvmbus_region *r, *sub;
	uint64_t pfn[3], pfn2[3];
	char local[64];

	env_open(&e);
	cr_assert_eq(uvmbus_mem_alloc(e.mem, 1u << 20, &r), 0);
	uint8_t *a = uvmbus_region_addr(r);

	/* caller-owned sub-range of guest RAM, unaligned */
	cr_assert_eq(uvmbus_mem_register(e.mem, a + 5000, 9000, &sub), 0);
	cr_assert_eq(uvmbus_region_pfns(sub, 0, 9000, pfn, NULL), 0);
	cr_assert_eq(uvmbus_region_pfns(r, 5000, 9000, pfn2, NULL), 0);
	cr_expect_arr_eq(pfn, pfn2, sizeof(pfn));
	cr_expect_eq(uvmbus_mem_find(e.mem, a + 6000, 10), sub);
	cr_expect_eq(uvmbus_mem_register(e.mem, local, sizeof(local), &sub), -EINVAL);
	cr_expect_neq(strstr(e.sink.text, "not guest RAM"), NULL, "%s", e.sink.text);
	cr_expect_eq(uvmbus_mem_register(e.mem, NULL, 10, &sub), -EINVAL);
	cr_assert_eq(uvmbus_region_release(uvmbus_mem_find(e.mem, a + 6000, 10)), 0);
	cr_assert_eq(uvmbus_region_release(r), 0);
	env_close(&e);
}

Test(mem_sim, refcounts_and_exhaustion)
{
	struct env e;
	struct uvmbus_region *r, *r2, *big;
	struct uvmbus_mem_stats st;

	env_open(&e);
	cr_assert_eq(uvmbus_mem_alloc(e.mem, 3u << 20, &r), 0);
	uvmbus_region_get(r);
	cr_expect_eq(uvmbus_region_refs(r), 1u);
	cr_expect_eq(uvmbus_region_release(r), -EBUSY, "a request still uses it");
	cr_expect_eq(uvmbus_mem_close(e.mem), -EBUSY);
	uvmbus_region_put(r);
	cr_expect_eq(uvmbus_mem_alloc(e.mem, WIN_SIZE, &big), -ENOMEM, "window has 28 MiB left");
	cr_assert_eq(uvmbus_mem_alloc(e.mem, WIN_SIZE - (4u << 20), &r2), 0);
	uvmbus_mem_get_stats(e.mem, &st);
	cr_expect_eq(st.regions, 2u);
	cr_expect_eq(st.pinned_bytes, WIN_SIZE);
	cr_expect_eq(st.bytes_2m, WIN_SIZE);
	cr_assert_eq(uvmbus_region_release(r), 0);
	cr_assert_eq(uvmbus_region_release(r2), 0);
	cr_assert_eq(uvmbus_mem_alloc(e.mem, WIN_SIZE, &big), 0, "freed chunks are reused");
	cr_assert_eq(uvmbus_region_release(big), 0);
	uvmbus_mem_get_stats(e.mem, &st);
	cr_expect_eq(st.regions, 0u);
	cr_expect_eq(st.pinned_bytes, 0u);
	env_close(&e);
}

Test(mem_sim, bad_options)
{
	struct uvmbus_mem_opts o;
	struct uvmbus_mem *m;
	struct log_sink s;

	uvmbus_mem_opts_init(&o);
	o.backend = UVMBUS_PIN_MEMFD;
	o.log = sink_log(&s);
	cr_expect_eq(uvmbus_mem_open(&m, &o), -EINVAL, "no memfd");
	cr_expect_neq(strstr(s.text, "memfd"), NULL);
	o.backend = 42;
	cr_expect_eq(uvmbus_mem_open(&m, &o), -EINVAL);
	uvmbus_mem_opts_init(&o);
	o.kstub_path = "/nonexistent/uvmbus_kstub";
	o.log = sink_log(&s);
	cr_expect_eq(uvmbus_mem_open(&m, &o), -ENODEV, "AUTO without the module");
	cr_expect_neq(strstr(s.text, "bind_uio.sh kstub"), NULL, "%s", s.text);
}
