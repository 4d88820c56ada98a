// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The simulator's life cycle and controls: options, create/start/run/
 * stop/destroy, rescind and re-offer, faults, statistics. The host loop
 * itself is sim_vsp.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <azblob/vsp_wire.h>

#include "sim_internal.h"

#define DEFAULT_GUID "3a8e5c52-8d1f-4b7e-9c55-0f2a6b1d9e01"

void azblob_sim_opts_init(struct azblob_sim_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->ram_bytes = 256ull << 20;
	o->ring_bytes = (uint32_t)sysconf(_SC_PAGESIZE) + (2u << 20); /* a header page + 2 MiB */
	o->monitor_id = -1;
	o->relid = 14;
	o->cpu = -1;
	o->seed = 1;
	o->faults.monitor_scan_us = 50;
}

/* A one-shot fault counter is armed: the serving loop takes the lock. */
static bool sim_oneshots_armed(const struct azblob_sim_faults *f)
{
	/* completion_type/extra8 are not one-shots, but emit() reads them
	 * under the lock too. */
	return f->drop || f->duplicate || f->unknown_tid || f->oversize_response || f->corrupt ||
	       f->corrupt_tx_read || f->skip_data_write || f->completion_type ||
	       f->completion_extra8;
}

/* ---- life cycle ---- */

/* The kernel profile: its ring size, monitor offer and behaviour; without
 * one, the options' ring size and monitor with the behaviour the sim always
 * had (the newest ring file, the RX mask set by the kernel). */
static int apply_kernel(struct azblob_sim *s, const char *name)
{
	const struct azblob_sim_kernel *k = azblob_sim_kernel_find(name);

	s->opts.kernel = NULL;
	if (!name) {
		s->k = (struct azblob_sim_kernel){.name = "none",
						  .kernels = "no profile",
						  .differs = "the options' rings and monitor",
						  .osrelease = "6.15.0-azblob-sim",
						  .ring_bytes = s->opts.ring_bytes,
						  .kernel_masks_rx = true,
						  .monitor_id = s->opts.monitor_id};
		return 0;
	}
	if (!k) {
		sim_log(s, UVMBUS_LOG_ERR,
			"unknown kernel profile '%s' (azblob-vspd --kernel help)", name);
		return -EINVAL;
	}
	s->k = *k;
	s->opts.ring_bytes = sim_kernel_ring_bytes(k, s->page);
	s->opts.monitor_id = k->monitor_id;
	return 0;
}

int azblob_sim_create(struct azblob_sim **out, const struct azblob_sim_opts *o)
{
	struct azblob_sim *s;
	int rc;

	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	if (o)
		s->opts = *o;
	else
		azblob_sim_opts_init(&s->opts);
	s->ram_fd = s->listen_fd = s->conn_fd = s->wake[0] = s->wake[1] = -1;
	s->page = (size_t)sysconf(_SC_PAGESIZE);
	s->faults = s->opts.faults;
	s->cur_delay_us = s->faults.delay_us;
	s->cur_jitter_us = s->faults.jitter_us;
	s->cur = s->faults;
	atomic_store(&s->oneshots, sim_oneshots_armed(&s->faults));
	if (!s->faults.monitor_scan_us)
		s->faults.monitor_scan_us = 50;
	s->rng = s->opts.seed ? s->opts.seed : 1;
	az_clock_init(&s->clk, true);
	pthread_mutex_init(&s->lock, NULL);
	rc = apply_kernel(s, o ? o->kernel : NULL);
	if (rc)
		goto fail;
	snprintf(s->guid, sizeof(s->guid), "%s", s->opts.guid ? s->opts.guid : DEFAULT_GUID);
	s->opts.root = s->opts.guid = s->opts.backend = s->opts.backend_arg = NULL;

	rc = -EINVAL;
	/* Each ring whole kernel pages, a header page and data, as
	 * uio_hv_generic makes them (docs/DEVICE.md, "64 KiB kernel pages"). */
	if (!s->opts.ram_bytes || s->opts.ram_bytes % (2u << 20) || s->opts.ring_bytes % s->page ||
	    s->opts.ring_bytes < 2 * s->page || s->opts.monitor_id >= 128 ||
	    s->opts.subchannels > 4) {
		sim_log(s, UVMBUS_LOG_ERR,
			"bad options: RAM a multiple of 2 MiB, ring a multiple of the %zu-byte "
			"page (two at least), monitor id < 128, at most 4 subchannels",
			s->page);
		goto fail;
	}
	s->be = o && o->backend_ops
		    ? o->backend_ops
		    : azblob_sim_backend_find(o && o->backend ? o->backend : "memory");
	if (!s->be && o && !o->backend_ops && o->backend && !strcmp(o->backend, "null")) {
		s->be = &sim_null_backend; /* the null host: sim_null.c */
		s->null_host = true;
	}
	if (!s->be) {
		sim_log(s, UVMBUS_LOG_ERR, "unknown backend '%s' (memory, dir, rest)", o->backend);
		goto fail;
	}
	rc = s->be->open(&s->be_state, o ? o->backend_arg : NULL, &s->opts.log);
	if (rc) {
		s->be = NULL;
		goto fail;
	}
	rc = -ENOMEM;
	s->held = calloc(SIM_MAX_REQS, sizeof(*s->held));
	s->pkt = malloc(SIM_MAX_PKT);
	if (!s->held || !s->pkt || pipe2(s->wake, O_NONBLOCK | O_CLOEXEC))
		goto fail;
	rc = sim_ram_create(s);
	s->owned_units = s->opts.ram_bytes / SIM_UNIT;
	if (!rc && !(s->owned = calloc(s->owned_units, sizeof(*s->owned))))
		rc = -ENOMEM;
	if (!rc) {
		s->opts.root = o ? o->root : NULL;
		rc = sim_tree_create(s);
		s->opts.root = NULL;
	}
	if (!rc)
		rc = sim_conn_listen(s);
	if (rc)
		goto fail;
	sim_log(s, UVMBUS_LOG_INFO,
		"device %s published under %s: %llu MiB guest RAM%s, rings %u bytes, %s, backend "
		"%s, kernel profile %s",
		s->guid, s->root, (unsigned long long)(s->opts.ram_bytes >> 20),
		s->ram_huge ? " (hugepages)" : "", s->opts.ring_bytes,
		s->opts.monitor_id >= 0 ? "monitor page" : "interrupt page", s->be->name,
		s->k.name);
	if (s->k.monitor_required && s->opts.monitor_id < 0)
		sim_log(s, UVMBUS_LOG_WARN,
			"kernel profile %s: uio_hv_generic refuses a channel without a monitor: "
			"the device is left unbound (vmbus channel requires hypercall)",
			s->k.name);
	*out = s;
	return 0;
fail:
	azblob_sim_destroy(s);
	return rc;
}

int azblob_sim_start(struct azblob_sim *s)
{
	int rc = pthread_create(&s->thread, NULL, sim_vsp_thread, s);

	if (rc)
		return -rc;
	s->thread_started = true;
	return 0;
}

int azblob_sim_run(struct azblob_sim *s)
{
	sim_vsp_thread(s);
	return 0;
}

void azblob_sim_stop(struct azblob_sim *s)
{
	atomic_store(&s->stop, true);
	if (s->wake[1] >= 0 && write(s->wake[1], "s", 1) < 0) {
		/* the pipe is full: the loop is awake anyway */
	}
}

void azblob_sim_destroy(struct azblob_sim *s)
{
	if (!s)
		return;
	azblob_sim_stop(s);
	if (s->thread_started)
		pthread_join(s->thread, NULL);
	sim_conn_close(s);
	sim_tree_remove(s);
	sim_mem_clear(s);
	sim_ram_destroy(s);
	if (s->be)
		s->be->close(s->be_state);
	if (s->wake[0] >= 0) {
		close(s->wake[0]);
		close(s->wake[1]);
	}
	pthread_mutex_destroy(&s->lock);
	free(s->held);
	free(s->owned);
	free(s->pkt);
	free(s->bounce);
	free(s);
}

const char *azblob_sim_root(const struct azblob_sim *s)
{
	return s->root;
}

uint8_t *azblob_sim_ram(struct azblob_sim *s, uint64_t *bytes)
{
	if (bytes)
		*bytes = s->opts.ram_bytes;
	return s->ram;
}

const char *azblob_sim_guid(const struct azblob_sim *s)
{
	return s->guid;
}

void azblob_sim_rescind(struct azblob_sim *s)
{
	atomic_store(&s->rescind, true);
	if (write(s->wake[1], "r", 1) < 0) {
		/* full pipe: already awake */
	}
}

int azblob_sim_reoffer(struct azblob_sim *s)
{
	unsigned before = atomic_load(&s->reoffers_done);
	struct timespec ts = {0, 1000000};

	atomic_store(&s->reoffer, true);
	if (write(s->wake[1], "o", 1) < 0) {
		/* full pipe: already awake */
	}
	for (int i = 0; i < 5000 && atomic_load(&s->reoffers_done) == before; i++)
		nanosleep(&ts, NULL);
	return atomic_load(&s->reoffers_done) == before ? -ETIMEDOUT : 0;
}

void azblob_sim_set_faults(struct azblob_sim *s, const struct azblob_sim_faults *f)
{
	pthread_mutex_lock(&s->lock);
	s->faults = *f;
	atomic_store_explicit(&s->oneshots, sim_oneshots_armed(f), memory_order_release);
	if (!s->faults.monitor_scan_us)
		s->faults.monitor_scan_us = 50;
	unsigned gen = atomic_fetch_add_explicit(&s->faults_gen, 1, memory_order_release) + 1;

	pthread_mutex_unlock(&s->lock);
	if (write(s->wake[1], "f", 1) < 0) {
		/* full pipe: already awake */
	}
	/* From another thread than the serving one: return only once the
	 * serving loop took the new settings (bounded: 2 s). */
	if (atomic_load(&s->serving) && !pthread_equal(pthread_self(), s->serving_thread)) {
		struct timespec ts = {0, 20000};

		for (int i = 0;
		     i < 100000 && !atomic_load(&s->stop) &&
		     (int)(atomic_load_explicit(&s->applied_gen, memory_order_acquire) - gen) < 0;
		     i++)
			nanosleep(&ts, NULL);
	}
}

void azblob_sim_get_stats(struct azblob_sim *s, struct azblob_sim_stats *st)
{
	const uint64_t *src = (const uint64_t *)&s->st;
	uint64_t *dst = (uint64_t *)st;

	_Static_assert(sizeof(*st) % sizeof(uint64_t) == 0, "stats are u64s");
	for (size_t i = 0; i < sizeof(*st) / sizeof(uint64_t); i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
	/* The rings stay mapped here: any later guest write shows. On a
	 * kernel that frees them at rescind, that write is a violation. */
	if (atomic_load(&s->rescind_done) && s->rings && sim_tx_hash(s) != s->rescind_tx_hash) {
		st->writes_after_rescind = 1;
		if (s->k.rescind_frees_rings && !atomic_exchange(&s->stale_counted, true)) {
			SIM_STAT_ADD(s, violations[AZBLOB_SIM_V_STALE_WRITE], 1);
			SIM_STAT_ADD(s, violations_total, 1);
			sim_log(s, UVMBUS_LOG_ERR,
				"the guest wrote its TX ring after the rescind (kernel %s frees "
				"those pages)",
				s->k.name);
		}
		if (s->k.rescind_frees_rings) {
			st->violations[AZBLOB_SIM_V_STALE_WRITE] = __atomic_load_n(
			    &s->st.violations[AZBLOB_SIM_V_STALE_WRITE], __ATOMIC_RELAXED);
			st->violations_total =
			    __atomic_load_n(&s->st.violations_total, __ATOMIC_RELAXED);
		}
	}
}

int azblob_sim_format_stats(struct azblob_sim *s, char *buf, size_t cap)
{
	struct azblob_sim_stats st;
	size_t n;

	azblob_sim_get_stats(s, &st);
	n = (size_t)snprintf(buf, cap,
			     "requests=%llu completions=%llu errors=%llu timeouts=%llu "
			     "signals=%llu interrupts=%llu rx_full=%llu faults=%llu "
			     "bytes_in=%llu bytes_out=%llu reused_buffers=%llu violations=%llu "
			     "regions=%llu region_errors=%llu region_data_bytes=%llu",
			     (unsigned long long)st.requests, (unsigned long long)st.completions,
			     (unsigned long long)st.errors, (unsigned long long)st.timeouts,
			     (unsigned long long)st.signals, (unsigned long long)st.interrupts,
			     (unsigned long long)st.rx_full, (unsigned long long)st.faults,
			     (unsigned long long)st.bytes_in, (unsigned long long)st.bytes_out,
			     (unsigned long long)st.reused_buffers,
			     (unsigned long long)st.violations_total,
			     (unsigned long long)st.regions, (unsigned long long)st.region_errors,
			     (unsigned long long)st.region_data_bytes);
	for (int v = 0; v < AZBLOB_SIM_V_COUNT && n < cap; v++)
		if (st.violations[v])
			n += (size_t)snprintf(buf + n, cap - n, " %s=%llu",
					      azblob_sim_violation_name(v),
					      (unsigned long long)st.violations[v]);
	return (int)n;
}
