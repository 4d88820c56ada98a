/* The client's core behaviours against one kernel profile of the simulator
 * (DEV_KERNEL_PROFILE, one ctest dev_kernel_<profile> each): open, requests
 * with and without data, interrupt mode, timeouts, rescind, re-offer. On a
 * profile whose kernel refuses the channel, every test checks that open
 * says exactly why and what to do. */
#include <stdlib.h>
#include <unistd.h>

#include <azblob/blob.h>

#include "azblob_fixture.h"
#include "sim_guest.h"

static const struct azblob_sim_kernel *k;
static bool cl_interrupt_mode;

static bool refused(void)
{
	return k->monitor_required && k->monitor_id < 0;
}

static void start_profile(void)
{
	struct azblob_sim_opts so;

	k = azblob_sim_kernel_find(getenv("DEV_KERNEL_PROFILE"));
	cr_assert_not_null(k, "DEV_KERNEL_PROFILE '%s' is not a profile",
			   getenv("DEV_KERNEL_PROFILE") ? getenv("DEV_KERNEL_PROFILE") : "(unset)");
	azblob_sim_opts_init(&so);
	so.ram_bytes = 128u << 20;
	so.no_hugetlb = true;
	so.kernel = k->name;
	so.log = sink_log(&sink);
	cr_assert_eq(azblob_sim_create(&sim, &so), 0, "%s", sink.text);
	cr_assert_eq(azblob_sim_start(sim), 0);
}

/* Open a client in polling or interrupt mode; false when the profile
 * refuses the channel (the refusal checked here). */
static bool open_client(bool interrupt_mode)
{
	struct azblob_opts o;
	int rc;

	client_opts(&o, 16, 0, 0);
	o.interrupt_mode = cl_interrupt_mode = interrupt_mode;
	rc = azblob_open(&cl, &o);
	if (refused()) {
		cr_assert_eq(rc, -EOPNOTSUPP, "%s", sink.text);
		cr_expect_neq(strstr(sink.text, "before Linux 6.10 uio_hv_generic refuses such a "
						"channel"),
			      NULL, "%s", sink.text);
		cr_expect_neq(strstr(sink.text, k->osrelease), NULL, "names the kernel: %s",
			      sink.text);
		cr_expect_neq(strstr(sink.text, "Use a 6.10 or later kernel, or a host that offers "
						"the device with a monitor"),
			      NULL, "says what to do: %s", sink.text);
		return false;
	}
	cr_assert_eq(rc, 0, "%s", sink.text);
	return true;
}

/* n no-op requests, one at a time: reaped by busy-polling (polling mode)
 * or by sleeping in azblob_wait() (interrupt mode). */
static void round_trips(int n)
{
	for (int i = 0; i < n; i++) {
		struct done d = {0};
		char req[64], resp[512];
		struct azblob_request r = noop(req, resp, &d);

		cr_assert_eq(azblob_submit(cl, &r), 0, "%s", sink.text);
		cr_assert_eq(azblob_flush(cl), 0);
		if (cl_interrupt_mode) {
			reap(&d);
		} else {
			for (long spin = 0; spin < 2000000000L && !d.calls; spin++)
				if (azblob_poll(cl, 0) < 0)
					break;
		}
		cr_assert_eq(d.calls, 1, "request %d not answered (%s)", i, sink.text);
		cr_assert_eq(d.err, 0);
		cr_assert(!strncmp(resp, "HTTP/1.1 200", 12));
	}
}

TestSuite(dev_kernel, .init = start_profile, .fini = stop);

Test(dev_kernel, requests_with_and_without_data)
{
	static char put[200000], got[200000];
	struct azblob_blob_status st;
	size_t n = 0;

	if (!open_client(false))
		return;
	round_trips(20);
	cr_expect_eq(cstats().idle_signals, 0u, "polling: no signal without news");
	cr_expect_eq(sstats().idle_signals, 0u, "polling: the host saw none either");
	for (size_t i = 0; i < sizeof(put); i++)
		put[i] = (char)(i * 7 + 1);
	cr_assert_eq(azblob_container_create(cl, "ctr", &st), 0, "%s", sink.text);
	cr_assert_eq(azblob_blob_put(cl, "ctr", "b", put, sizeof(put), NULL, &st), 0, "%s",
		     sink.text);
	cr_assert_eq(azblob_blob_get(cl, "ctr", "b", 0, got, sizeof(got), &n, NULL, &st), 0);
	cr_expect_eq(n, sizeof(got));
	cr_expect_arr_eq(got, put, sizeof(put));
	cr_expect_eq(sstats().violations_total, 0u);
	/* The blob helpers sleep when the host is slow: one unmask each. */
	cr_expect_leq(sstats().idle_signals, cstats().waits);
}

Test(dev_kernel, interrupt_mode)
{
	if (!open_client(true))
		return;
	round_trips(200);
	struct azblob_stats cs = cstats();

	cr_expect_gt(cs.waits, 0u, "slept");
	cr_expect_leq(cs.idle_signals, cs.waits, "at most one idle signal per sleep");
	cr_expect_leq(sstats().idle_signals, cs.waits, "the host's count: %llu for %llu sleeps",
		      (unsigned long long)sstats().idle_signals, (unsigned long long)cs.waits);
	if (k->monitor_id >= 0)
		cr_expect_eq(cs.idle_signals, 0u, "with a monitor the unmask signals nothing");
}

Test(dev_kernel, timeout_then_late_answer)
{
	struct azblob_sim_faults f = {.stop_draining = true};
	struct done d = {0};
	char req[64], resp[512];

	if (!open_client(false))
		return;
	azblob_sim_set_faults(sim, &f);
	struct azblob_request r = noop(req, resp, &d);

	r.timeout_ms = 30;
	cr_assert_eq(azblob_submit(cl, &r), 0);
	azblob_flush(cl);
	reap(&d);
	cr_assert_eq(d.err, -ETIMEDOUT);
	cr_expect_eq(cstats().held_slots, 1u);
	f.stop_draining = false;
	azblob_sim_set_faults(sim, &f);
	for (int i = 0; i < 1000 && cstats().late == 0; i++) {
		azblob_poll(cl, 0);
		azblob_wait(cl, 10);
	}
	cr_expect_eq(cstats().late, 1u);
	cr_expect_eq(cstats().held_slots, 0u);
	round_trips(5);
}

Test(dev_kernel, rescind)
{
	static struct done d[4];
	char req[64], resp[512];

	if (!open_client(false))
		return;
	round_trips(3);
	cr_expect_eq(rescind_with_requests_out(d, 4), -ENODEV);
	for (int i = 0; i < 4; i++)
		cr_expect(d[i].calls == 1 && d[i].err == -ENODEV, "request %d", i);
	usleep(50000); /* past rescind_check_ms: submit looks at the fd first */
	struct azblob_request r = noop(req, resp, &d[0]);

	cr_expect_eq(azblob_submit(cl, &r), -ENODEV);
	cr_expect_eq(azblob_flush(cl), -ENODEV);
	cr_expect_eq(sstats().writes_after_rescind, 0u, "nothing written after the rescind");
	cr_expect_eq(sstats().violations[AZBLOB_SIM_V_STALE_WRITE], 0u);
}

static long sysfs_long(const char *rel)
{
	char p[1024];
	long v = -1;

	snprintf(p, sizeof(p), "%s/sys/bus/vmbus/devices/%s/%s", azblob_sim_root(sim),
		 azblob_sim_guid(sim), rel);
	FILE *f = fopen(p, "r");

	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

Test(dev_kernel, reoffer_under_a_new_relid_and_uio)
{
	long relid;
	int rc = 0;

	if (!open_client(false))
		return;
	round_trips(3);
	relid = sysfs_long("id");
	cr_assert_eq(azblob_sim_reoffer(sim), 0);
	for (int i = 0; i < 1000 && rc != -ENODEV; i++) {
		rc = azblob_poll(cl, 0);
		if (rc != -ENODEV)
			rc = azblob_wait(cl, 10);
	}
	cr_expect_eq(rc, -ENODEV, "the old channel is gone");
	azblob_close(cl);
	cl = NULL;
	cr_expect_eq(sysfs_long("id"), relid + 1);
	cr_expect_eq(sstats().reoffers, 1u);
	cr_assert(open_client(false));
	round_trips(10);
	cr_expect_eq(sstats().violations_total, 0u);
}

/* Every profile the simulator has is tested: the list ctest runs
 * (DEV_KERNEL_ALL) is the simulator's. */
Test(dev_kernel_list, every_profile_has_a_test)
{
	const char *all = getenv("DEV_KERNEL_ALL");
	size_t n, listed = 0;
	const struct azblob_sim_kernel *ks = azblob_sim_kernels(&n);
	char buf[512];

	cr_assert_not_null(all);
	snprintf(buf, sizeof(buf), ",%s,", all);
	for (size_t i = 0; i < n; i++) {
		char want[64];

		snprintf(want, sizeof(want), ",%s,", ks[i].name);
		cr_expect_neq(strstr(buf, want), NULL, "profile %s has no dev_kernel_ test",
			      ks[i].name);
	}
	for (const char *p = all; *p; p++)
		listed += *p == ',';
	cr_expect_eq(listed + 1, n, "ctest lists %zu profiles, the simulator has %zu", listed + 1,
		     n);
}

/* A subchannel without a monitor signals the host by its relid bit and the
 * fd write; only kernels that set the event on every channel deliver that
 * to the subchannel (older ones signal the primary). The simulator counts
 * what a subchannel received. */
Test(dev_kernel_sub, subchannel_signal_reaches_it_only_where_the_kernel_sets_every_event)
{
	const struct azblob_sim_kernel *pk = azblob_sim_kernel_find(getenv("DEV_KERNEL_PROFILE"));
	struct azblob_sim_opts so;
	struct tguest t;
	struct azblob_sim_stats st;
	struct uvmbus_log log = sink_log(&sink);

	cr_assert_not_null(pk);
	azblob_sim_opts_init(&so);
	so.ram_bytes = 64u << 20;
	so.no_hugetlb = true;
	so.kernel = pk->name;
	so.subchannels = 1;
	so.log = log;
	int rc = tguest_open(&t, &so, &log);

	if (pk->monitor_required && pk->monitor_id < 0) {
		cr_expect_eq(rc, -EOPNOTSUPP, "%s", sink.text);
		tguest_close(&t);
		return;
	}
	cr_assert_eq(rc, 0, "%s", sink.text);
	cr_assert_eq(uvmbus_dev_open_subchannels(t.dev), 2, "%s", sink.text);
	struct uvmbus_chan *sub = uvmbus_dev_channel(t.dev, 1);

	cr_assert_eq(uvmbus_chan_signal(sub), 0);
	for (int i = 0; i < 200; i++) { /* the sim reads the doorbell every pass */
		azblob_sim_get_stats(t.sim, &st);
		if (st.signals)
			break;
		usleep(5000);
	}
	usleep(20000);
	azblob_sim_get_stats(t.sim, &st);
	cr_expect_eq(st.subchannel_signals, pk->set_event_subchannels ? 1u : 0u,
		     "kernel %s: the subchannel got %llu signal(s)", pk->name,
		     (unsigned long long)st.subchannel_signals);
	tguest_close(&t);
}
