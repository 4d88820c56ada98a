// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The memory table (<uvmbus/simsock.h>): guest memory outside guest RAM,
 * as vhost-user's SET_MEM_TABLE. The guest registers its own pages (an
 * application's malloc, mmap, memfd or hugetlbfs buffer) and sends, per
 * region, its guest-physical range, its address in the guest process and,
 * when a file backs it, the file (we map the same pages). Without a file,
 * or when the file cannot be mapped writable any more (sealed), we read
 * and write the guest process's own pages with process_vm_readv/writev of
 * the peer found by SO_PEERCRED at accept. Either way the host's reads and writes
 * land in the guest's pages; a pfn in no region and not in RAM is the
 * pfn_outside_ram violation. Messages are guest input: each field is
 * checked, a bad one is logged, counted (region_errors) and dropped.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include "sim_internal.h"

#define GRAN	    ((uint64_t)2 << 20)
#define MAX_REG_LEN ((uint64_t)1 << 40)

static void refuse(struct azblob_sim *s, const struct uvmbus_simsock_mem *m, const char *why)
{
	SIM_STAT_ADD(s, region_errors, 1);
	sim_log(s, UVMBUS_LOG_WARN, "memory table: region [%#llx, +%#llx) refused: %s",
		(unsigned long long)m->gpa, (unsigned long long)m->len, why);
}

static void drop(struct azblob_sim *s, unsigned i)
{
	struct sim_region *r = &s->regions[i];

	if (r->map)
		munmap(r->map, r->map_len);
	s->regions[i] = s->regions[--s->nregions];
	__atomic_store_n(&s->st.regions, s->nregions, __ATOMIC_RELAXED);
}

static int add(struct azblob_sim *s, const struct uvmbus_simsock_mem *m, int fd)
{
	struct sim_region r = {.gpa = m->gpa, .len = m->len};

	if (s->nregions == SIM_MAX_REGIONS)
		return refuse(s, m, "table full"), -ENOSPC;
	for (unsigned i = 0; i < s->nregions; i++)
		if (m->gpa < s->regions[i].gpa + s->regions[i].len &&
		    s->regions[i].gpa < m->gpa + m->len)
			return refuse(s, m, "overlaps a region"), -EEXIST;
	if (fd >= 0) {
		uint64_t off = m->fd_offset & ~(GRAN - 1); /* hugetlbfs: 2 MiB aligned */

		if (m->fd_offset % SIM_PAGE || m->fd_offset > MAX_REG_LEN)
			return refuse(s, m, "bad file offset"), -EINVAL;
		r.map_len = (size_t)((m->fd_offset - off + m->len + GRAN - 1) & ~(GRAN - 1));
		r.map = mmap(NULL, r.map_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)off);
		if (r.map == MAP_FAILED) {
			int e = errno;

			r.map = NULL;
			/* A file sealed against new writable mappings (EPERM)
			 * after the guest sent it: the same pages through the
			 * guest's own mapping. */
			if (!m->addr || m->addr % SIM_PAGE || !s->peer_pid)
				return refuse(s, m, strerror(e)), -e;
			sim_log(s, UVMBUS_LOG_DEBUG,
				"memory table: [%#llx, +%#llx): its file cannot be mapped (%s)",
				(unsigned long long)m->gpa, (unsigned long long)m->len,
				strerror(e));
		} else {
			r.host = r.map + (m->fd_offset - off);
		}
	}
	if (!r.host) {
		if (m->addr % SIM_PAGE || !s->peer_pid)
			return refuse(s, m, "no file and no process memory"), -EINVAL;
		r.addr = m->addr;
	}
	s->regions[s->nregions++] = r;
	__atomic_store_n(&s->st.regions, s->nregions, __ATOMIC_RELAXED);
	sim_log(s, UVMBUS_LOG_DEBUG, "memory table: [%#llx, +%#llx) %s", (unsigned long long)m->gpa,
		(unsigned long long)m->len,
		r.host ? "mapped from its file" : "the guest process's memory");
	return 0;
}

void sim_mem_message(struct azblob_sim *s, const struct uvmbus_simsock_mem *m, int fd)
{
	if (m->magic != UVMBUS_SIMSOCK_MEM_MAGIC)
		refuse(s, m, "bad magic");
	else if (!m->len || m->len % SIM_PAGE || m->gpa % SIM_PAGE || m->len > MAX_REG_LEN ||
		 m->gpa > UINT64_MAX - m->len || m->gpa < s->opts.ram_bytes)
		refuse(s, m, "bad range (not pages above guest RAM)");
	else if (m->op == UVMBUS_SIMSOCK_MEM_ADD)
		(void)add(s, m, fd);
	else if (m->op == UVMBUS_SIMSOCK_MEM_REMOVE && fd < 0)
		for (unsigned i = s->nregions; i-- > 0;) {
			if (s->regions[i].gpa >= m->gpa &&
			    s->regions[i].gpa + s->regions[i].len <= m->gpa + m->len)
				drop(s, i);
		}
	else
		refuse(s, m, "bad operation");
	if (fd >= 0)
		close(fd);
}

void sim_mem_clear(struct azblob_sim *s)
{
	while (s->nregions)
		drop(s, s->nregions - 1);
}

const struct sim_region *sim_mem_find(const struct azblob_sim *s, uint64_t gpa)
{
	for (unsigned i = 0; i < s->nregions; i++)
		if (gpa - s->regions[i].gpa < s->regions[i].len)
			return &s->regions[i];
	return NULL;
}

bool sim_mem_valid(struct azblob_sim *s, uint64_t pfn)
{
	if (pfn < s->ram_pages)
		return true;
	if (pfn > UINT64_MAX / SIM_PAGE)
		return false;
	if (sim_mem_find(s, pfn * SIM_PAGE))
		return true;
	/* The guest sends a region before it uses it: take what it sent. */
	s->deferred_signals += sim_conn_drain(s);
	return sim_mem_find(s, pfn * SIM_PAGE) != NULL;
}

uint8_t *sim_mem_ptr(struct azblob_sim *s, uint64_t gpa, uint64_t len)
{
	const struct sim_region *r;

	if (gpa + len <= s->opts.ram_bytes && gpa + len >= gpa)
		return s->ram + gpa;
	r = sim_mem_find(s, gpa);
	if (!r || !r->host || gpa - r->gpa + len > r->len)
		return NULL;
	return r->host + (gpa - r->gpa);
}

int sim_mem_rw(struct azblob_sim *s, uint64_t gpa, void *buf, size_t len, bool write)
{
	const struct sim_region *r;
	uint8_t *p = sim_mem_ptr(s, gpa, len);
	struct iovec local = {buf, len}, remote;
	ssize_t n;

	if (p) {
		if (write)
			memcpy(p, buf, len);
		else
			memcpy(buf, p, len);
		return 0;
	}
	r = sim_mem_find(s, gpa);
	if (!r || r->host || gpa - r->gpa + len > r->len)
		return -EFAULT; /* validated pfns: only a region dropped since */
	remote = (struct iovec){(void *)(uintptr_t)(r->addr + (gpa - r->gpa)), len};
	n = write ? process_vm_writev(s->peer_pid, &local, 1, &remote, 1, 0)
		  : process_vm_readv(s->peer_pid, &local, 1, &remote, 1, 0);
	if (n == (ssize_t)len)
		return 0;
	SIM_STAT_ADD(s, region_errors, 1);
	sim_log(s, UVMBUS_LOG_WARN, "memory table: %s of %zu bytes at gpa %#llx: %s",
		write ? "write" : "read", len, (unsigned long long)gpa,
		n < 0 ? strerror(errno) : "short");
	return -EFAULT;
}

void sim_mem_fill(struct azblob_sim *s, uint64_t gpa, int byte, uint64_t len)
{
	uint8_t buf[SIM_PAGE];

	memset(buf, byte, sizeof(buf));
	for (uint64_t done = 0; done < len;) {
		size_t k = len - done < sizeof(buf) ? (size_t)(len - done) : sizeof(buf);

		(void)sim_mem_rw(s, gpa + done, buf, k, true);
		done += k;
	}
}
