// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The host loop: drain the guest's TX ring, validate, serve from the
 * backend, hold completions until due (delay faults, timeouts), write them
 * into the guest's RX ring, interrupt the guest when the rules say so.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <azblob/vsp_wire.h>

#include "sim_internal.h"
#include "cpu_relax.h"

#define MONITOR_OFF 8u /* trigger groups {u32 pending, u32 armed} */

static const char *const vnames[AZBLOB_SIM_V_COUNT] = {
    "not_gpa_direct",  "no_completion", "zero_trans_id", "rangecount", "range",
    "pfn_outside_ram", "short_payload", "version",	 "operation",  "lengths",
    "layout",	       "descriptor",	"stale_write",
};

const char *azblob_sim_violation_name(enum azblob_sim_violation v)
{
	return (unsigned)v < AZBLOB_SIM_V_COUNT ? vnames[v] : "unknown";
}

/* ---- requests ---- */

/* The skip_data_write fault: a copy of the data buffer as the guest left
 * it, put back after the backend answered. NULL: not armed. */
static uint8_t *skip_data_write(struct azblob_sim *s, const struct azblob_sim_req *r)
{
	uint8_t *keep = NULL;

	if (!r->data_len || !atomic_load_explicit(&s->oneshots, memory_order_acquire))
		return NULL;
	pthread_mutex_lock(&s->lock);
	if (s->faults.skip_data_write && (keep = malloc(r->data_len))) {
		s->faults.skip_data_write--;
		SIM_STAT_ADD(s, faults, 1);
		memcpy(keep, r->data, r->data_len);
	}
	pthread_mutex_unlock(&s->lock);
	return keep;
}

static void serve_packet(struct azblob_sim *s, uint32_t len)
{
	struct azblob_sim_req r;
	uint32_t status, rlen = 0, dout = 0;
	uint64_t tid;
	int v = sim_validate(s, s->pkt, len, &r, &status, &tid);

	if (v) {
		SIM_STAT_ADD(s, violations[v - 1], 1);
		SIM_STAT_ADD(s, violations_total, 1);
		sim_log(s, UVMBUS_LOG_WARN, "request %#llx rejected: %s", (unsigned long long)tid,
			vnames[v - 1]);
		if (status)
			sim_hold(s, tid, status, 0, 0, NULL, 0);
		return;
	}
	struct sim_run runs[SIM_RUNS];
	int nruns = sim_writable_runs(s, s->pkt, runs);

	if (nruns > 0 && sim_own_claim(s, runs, nruns)) {
		/* Log the first few; the counter tells the rest. */
		if (__atomic_fetch_add(&s->st.reused_buffers, 1, __ATOMIC_RELAXED) < 10)
			sim_log(s, UVMBUS_LOG_ERR,
				"request %#llx: its response/data pages belong to an unanswered "
				"request (the guest reused a buffer the host may still write)",
				(unsigned long long)tid);
	}
	uint8_t *keep = skip_data_write(s, &r);

	status = s->be->handle(s->be_state, &r, &rlen, &dout);
	if (keep) {
		memcpy(r.data, keep, r.data_len);
		free(keep);
	}
	if (rlen > r.response_cap)
		rlen = r.response_cap;
	/* counted once per pass (drain_tx) */
	s->pass.requests++;
	s->pass.bytes_in += r.data_valid;
	s->pass.bytes_out += dout;
	sim_unbounce(s, s->pkt, &r);
	sim_hold(s, tid, status, rlen, r.timeout_ms, runs, nruns);
}

/* The corrupt_tx_read fault: an impossible read index (past the data
 * area, not a multiple of 8), and no more draining: a broken host. */
static void corrupt_tx_read(struct azblob_sim *s)
{
	bool hit = false;

	pthread_mutex_lock(&s->lock);
	if (s->faults.corrupt_tx_read) {
		s->faults.corrupt_tx_read--;
		s->faults.stop_draining = true;
		SIM_STAT_ADD(s, faults, 1);
		hit = true;
	}
	pthread_mutex_unlock(&s->lock);
	if (hit)
		__atomic_store_n(s->tx.r, s->tx.size + 12, __ATOMIC_RELEASE);
}

/* The statistics of the requests served in this pass: one atomic add
 * each per pass, not per request. */
static void count_pass(struct azblob_sim *s)
{
	if (!s->pass.requests)
		return;
	SIM_STAT_ADD(s, requests, s->pass.requests);
	SIM_STAT_ADD(s, bytes_in, s->pass.bytes_in);
	SIM_STAT_ADD(s, bytes_out, s->pass.bytes_out);
	memset(&s->pass, 0, sizeof(s->pass));
}

/* Read what the guest queued in TX. Returns packets handled, -1 when the
 * ring is corrupt (the channel is then left alone, as a host would). */
static int drain_tx(struct azblob_sim *s)
{
	uint32_t start = s->tx_read, len;
	int n = 0;

	while (n < 64) {
		int rc = hring_peek(&s->tx, s->tx_read, s->pkt, SIM_MAX_PKT, &len);

		if (rc == 0)
			break;
		if (rc < 0) {
			SIM_STAT_ADD(s, violations[AZBLOB_SIM_V_DESCRIPTOR], 1);
			SIM_STAT_ADD(s, violations_total, 1);
			sim_log(s, UVMBUS_LOG_ERR, "guest TX ring is corrupt at %u: channel broken",
				s->tx_read);
			pthread_mutex_lock(&s->lock);
			s->faults.stop_draining = true;
			pthread_mutex_unlock(&s->lock);
			count_pass(s);
			return -1;
		}
		s->tx_read = (s->tx_read + len + 8) % s->tx.size;
		serve_packet(s, len);
		n++;
	}
	count_pass(s);
	if (n) {
		uint32_t bytes =
		    s->tx_read >= start ? s->tx_read - start : s->tx.size - start + s->tx_read;

		if (hring_consume(&s->tx, s->tx_read, bytes))
			sim_conn_interrupt(s); /* the guest waited for TX room */
		if (atomic_load_explicit(&s->oneshots, memory_order_acquire))
			corrupt_tx_read(s);
	}
	return n;
}

static bool scan_monitor(struct azblob_sim *s, uint64_t now, uint32_t scan_us)
{
	int id = s->opts.monitor_id;
	uint32_t *pending, bit;

	if (id < 0 || now - s->last_scan_ns < (uint64_t)scan_us * 1000)
		return false;
	s->last_scan_ns = now;
	pending = (uint32_t *)(s->uio_pages + 2 * s->page + MONITOR_OFF + (size_t)(id / 32) * 8);
	bit = 1u << (id % 32);
	if (!(__atomic_fetch_and(pending, ~bit, __ATOMIC_SEQ_CST) & bit))
		return false;
	sim_count_signal(s);
	return true;
}

/* FNV-1a of the guest's TX ring (write index and data): to see whether the
 * guest wrote it after the rescind. */
uint64_t sim_tx_hash(struct azblob_sim *s)
{
	uint64_t h = 0xcbf29ce484222325ull ^ __atomic_load_n(s->tx.w, __ATOMIC_ACQUIRE);

	for (uint32_t i = 0; i < s->tx.size; i++)
		h = (h ^ s->tx.data[i]) * 0x100000001b3ull;
	return h;
}

static void do_rescind(struct azblob_sim *s)
{
	sim_log(s, UVMBUS_LOG_INFO, "rescinding the device");
	s->rescind_tx_hash = sim_tx_hash(s);
	atomic_store(&s->rescind_done, true);
	sim_conn_close(s);
	s->nheld = 0;
	memset(s->owned, 0, s->owned_units * sizeof(*s->owned));
}

/* Host servicing: the same instance GUID again, under the next relid and
 * uio number, with fresh rings (the guest opens it anew). 0 when the new
 * device is published. */
static int do_reoffer(struct azblob_sim *s)
{
	int rc;

	atomic_store(&s->rescind_done, false); /* before the rings go */
	sim_tree_unpublish_device(s);
	s->opts.relid++;
	s->uio_num++;
	s->tx_read = 0;
	s->rx_waiting = false;
	s->last_signal_tx_w = 0;
	atomic_store(&s->stale_counted, false);
	rc = sim_tree_publish_device(s);
	if (!rc)
		rc = sim_conn_listen(s);
	atomic_store(&s->rescind, false);
	atomic_store(&s->reoffer, false);
	SIM_STAT_ADD(s, reoffers, 1);
	atomic_fetch_add(&s->reoffers_done, 1);
	sim_log(s, UVMBUS_LOG_INFO, "device %s re-offered: relid %u, uio%u%s", s->guid,
		s->opts.relid, s->uio_num, rc ? " (failed)" : "");
	return rc;
}

/* Sleep until something can happen: a doorbell write, a connection, a
 * held completion coming due, the next monitor scan, the end of a pause. */
static void idle_wait(struct azblob_sim *s, const struct azblob_sim_faults *f, bool rescinded,
		      uint64_t now)
{
	uint64_t wait_ns = 100 * 1000000ull;
	struct pollfd p[3] = {
	    {s->wake[0], POLLIN, 0}, {s->listen_fd, POLLIN, 0}, {s->conn_fd, POLLIN, 0}};

	if (!rescinded && s->conn_fd >= 0 && !f->stop_draining && now >= s->pause_until_ns) {
		/* Unmask TX, then re-check it (store->load: full fence): a
		 * packet written while we were masked raised no signal. */
		__atomic_store_n(s->tx.mask, 0u, __ATOMIC_SEQ_CST);
		atomic_thread_fence(memory_order_seq_cst);
		if (__atomic_load_n(s->tx.w, __ATOMIC_ACQUIRE) != s->tx_read)
			return;
	}
	if (s->nheld && !s->rx_waiting) {
		uint64_t due = s->held[0].due_ns;

		for (unsigned i = 1; i < s->nheld; i++)
			due = s->held[i].due_ns < due ? s->held[i].due_ns : due;
		wait_ns = due <= now ? 0 : due - now < wait_ns ? due - now : wait_ns;
	}
	if (s->opts.monitor_id >= 0 && !rescinded && wait_ns > f->monitor_scan_us * 1000ull)
		wait_ns = f->monitor_scan_us * 1000ull;
	if (s->pause_until_ns > now && s->pause_until_ns - now < wait_ns)
		wait_ns = s->pause_until_ns - now;
	struct timespec ts = {(time_t)(wait_ns / 1000000000ull), (long)(wait_ns % 1000000000ull)};

	if (ppoll(p, 3, &ts, NULL) > 0 && (p[0].revents & POLLIN)) {
		char buf[64];

		while (read(s->wake[0], buf, sizeof(buf)) > 0)
			;
	}
}

/* Housekeeping (fault settings, connections, doorbell writes, the monitor
 * page): it costs system calls, so a polling host does it every 20 us, not
 * on every pass over the rings. Returns the guest signals taken. */
static int housekeeping(struct azblob_sim *s, uint64_t now, bool rescinded)
{
	struct azblob_sim_faults *f = &s->cur;
	unsigned gen;
	int signals = 0;

	pthread_mutex_lock(&s->lock);
	*f = s->faults;
	gen = atomic_load_explicit(&s->faults_gen, memory_order_relaxed);
	pthread_mutex_unlock(&s->lock);
	s->cur_delay_us = f->delay_us;
	s->cur_jitter_us = f->jitter_us;
	/* azblob_sim_set_faults() waits for this: new settings apply to every
	 * packet read from now on. */
	atomic_store_explicit(&s->applied_gen, gen, memory_order_release);
	if (rescinded)
		return 0;
	/* accept4() allocates a socket even when nobody connects: a polling
	 * host with a guest looks for a second one (to refuse it) every 64
	 * rounds (about 1 ms), and takes a fresh clock reference then. */
	if (!s->opts.poll || s->conn_fd < 0 || (++s->house_n & 63) == 0) {
		sim_conn_accept(s);
		if (s->opts.poll)
			az_clock_resync(&s->clk);
	}
	signals = sim_conn_drain(s);
	signals += scan_monitor(s, now, f->monitor_scan_us);
	SIM_STAT_ADD(s, signals, signals);
	if (f->pause_ms) {
		s->pause_until_ns = now + (uint64_t)f->pause_ms * 1000000;
		pthread_mutex_lock(&s->lock);
		s->faults.pause_ms = 0;
		f->pause_ms = 0;
		SIM_STAT_ADD(s, faults, 1);
		pthread_mutex_unlock(&s->lock);
	}
	return signals;
}

/* One pass over the rings: take what TX holds, answer what is due.
 * Returns the packets taken, -1 when TX is corrupt. */
static int serve_pass(struct azblob_sim *s, uint64_t now, int signals)
{
	int n = 0;

	if (s->conn_fd >= 0 && !s->cur.stop_draining && now >= s->pause_until_ns) {
		/* Masked while draining (always, when polling). Store only on
		 * change: the line also holds the guest's write index. */
		if (__atomic_load_n(s->tx.mask, __ATOMIC_RELAXED) != 1u)
			__atomic_store_n(s->tx.mask, 1u, __ATOMIC_SEQ_CST);
		n = s->null_host ? sim_null_drain(s) : drain_tx(s);
	}
	if (s->nheld && (!s->rx_waiting || signals))
		sim_emit_due(s);
	return n;
}

static void serve(struct azblob_sim *s)
{
	bool rescinded = false;

	if (s->opts.cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(s->opts.cpu, &set);
		if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set))
			sim_log(s, UVMBUS_LOG_WARN, "cannot pin to CPU %d", s->opts.cpu);
	}
	uint64_t last_house = 0;

	s->serving_thread = pthread_self();
	atomic_store(&s->serving, true);

	while (!atomic_load(&s->stop)) {
		/* One clock read per pass: requests taken and answers due in it
		 * share it. */
		uint64_t now = s->now = sim_now(s);
		int signals = 0, work = 0;

		if (atomic_load(&s->rescind) && !rescinded) {
			do_rescind(s);
			rescinded = true;
		}
		if (atomic_load(&s->reoffer)) {
			if (!rescinded)
				do_rescind(s);
			rescinded = do_reoffer(s) != 0;
		}
		if (!s->opts.poll || now - last_house >= 20000 || rescinded) {
			last_house = now;
			signals = housekeeping(s, now, rescinded);
		}
		if (!rescinded)
			work = serve_pass(s, now, signals) > 0;
		if (work)
			continue;
		if (s->opts.poll && !rescinded) {
			az_cpu_relax();
			continue;
		}
		idle_wait(s, &s->cur, rescinded, now);
	}
}

/* azblob_sim_step() for the normal host: one pass in the caller's thread,
 * housekeeping every 64 steps (or when the guest's signal is awaited). */
int sim_vsp_step(struct azblob_sim *s)
{
	uint64_t now = s->now = sim_now(s);
	int signals = 0, n;

	if (s->conn_fd < 0 || (++s->null_steps & 63) == 0 || s->rx_waiting) {
		signals = housekeeping(s, now, false);
		if (s->conn_fd < 0)
			return 0;
	}
	n = serve_pass(s, now, signals);
	return n < 0 ? -EIO : n;
}

void *sim_vsp_thread(void *arg)
{
	serve(arg);
	return NULL;
}
