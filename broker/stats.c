// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* The daemon's counters as text (azblob stat --broker, SIGUSR1). */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

#include "azd.h"

struct out {
	char *buf;
	size_t cap, n;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int k;

	va_start(ap, fmt);
	k = vsnprintf(o->n < o->cap ? o->buf + o->n : NULL, o->n < o->cap ? o->cap - o->n : 0, fmt,
		      ap);
	va_end(ap);
	if (k > 0)
		o->n += (size_t)k;
}

static const char *state_name(enum sess_state st)
{
	return st == SESS_HELLO	    ? "hello"
	       : st == SESS_ACTIVE  ? "active"
	       : st == SESS_CLOSING ? "closing"
				    : "zombie";
}

int azd_format_stats(const struct azd *d, char *buf, size_t cap)
{
	struct out o = {buf, cap, 0};
	struct azblob_stats ds;

	if (cap)
		buf[0] = 0;
	azblob_get_stats(d->dev, &ds);
	put(&o,
	    "daemon: mode %s, sessions now %u (zombies %u), total %" PRIu64 ", refused %" PRIu64
	    ", protocol errors %" PRIu64 ", answers dropped %" PRIu64 ", arenas %" PRIu64
	    " MiB, held records %u, late answers returned %" PRIu64 ", data path %s\n",
	    d->o.mode == AZD_POLL     ? "poll"
	    : d->o.mode == AZD_HYBRID ? "hybrid"
				      : "interrupt",
	    d->st.sessions_now, d->st.zombies_now, d->st.sessions, d->st.refused,
	    d->st.protocol_errors, d->st.dropped, d->st.arena_bytes_now >> 20, d->st.held_now,
	    d->st.late_returned,
	    !d->bounce	? "registered (arenas in place)"
	    : d->o.copy ? "copied (--copy)"
			: "copied (the host reaches the device pool only)");
	put(&o,
	    "device: submitted %" PRIu64 " completed %" PRIu64 " errors %" PRIu64
	    " timeouts %" PRIu64 " held %" PRIu64 " in flight %u share %u\n",
	    ds.submitted, ds.completed, ds.errors, ds.timeouts, ds.held_slots,
	    azblob_inflight(d->dev), azd_share(d));
	for (const struct azd_session *s = d->sessions; s; s = s->next) {
		const struct azd_sess_stats *t = &s->st;

		if (s->state == SESS_HELLO)
			continue;
		put(&o,
		    "client %" PRIu64 ": pid %d uid %u state %s qd %u arena %" PRIu64
		    " MiB in_flight %u held %u max_in_flight %u requests %" PRIu64
		    " completed %" PRIu64 " errors %" PRIu64 " rejected %" PRIu64
		    " bytes_in %" PRIu64 " doorbells %" PRIu64 " interrupts %" PRIu64
		    " rx_full %" PRIu64 " qd_full %" PRIu64 " share_full %" PRIu64
		    " device_busy %" PRIu64 " timeouts %" PRIu64 " dropped %" PRIu64,
		    s->id, (int)s->pid, (unsigned)s->uid,
		    s->state == SESS_ACTIVE && s->revoked_ns ? "revoked" : state_name(s->state),
		    s->qd, s->arena_bytes >> 20, s->inflight - s->held, s->held, t->max_inflight,
		    t->requests, t->completed, t->errors, t->rejected, t->bytes_in, t->doorbells,
		    t->interrupts, t->rx_full, t->qd_full, t->share_full, t->device_busy,
		    t->timeouts, t->dropped);
		for (int v = 1; v < AZD_V_COUNT; v++)
			if (t->violations[v])
				put(&o, " %s %" PRIu64, azd_violation_name(v), t->violations[v]);
		put(&o, "\n");
	}
	return (int)o.n;
}
