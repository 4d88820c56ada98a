/* Device layer against fake sysfs trees: discovery, opening, mappings,
 * signalling (monitor and interrupt page), interrupts, rescind. */
#include <criterion/criterion.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <termios.h>
#include <time.h>

#include <uvmbus/dev.h>
#include <uvmbus/packet.h>

#include "fake_sysfs.h"
#include "mem_fixture.h" /* log sink */

#define DEV_GUID "1a2b3c4d-0000-4000-8000-00000000abcd"
#define NET_GUID "99999999-1111-4222-8333-444444444444"
#define RING	 (4096u + 65536u)

static struct fake_tree tree;
static struct log_sink sink;
static int host_fd = -1; /* the "kernel" end of the event fd */

static int socket_events(void *arg, const char *uio_path)
{
	int sv[2];

	(void)arg;
	(void)uio_path;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
		return -errno;
	host_fd = sv[1];
	return sv[0];
}

static struct uvmbus_dev_opts opts(void)
{
	struct uvmbus_dev_opts o = fake_dev_opts(&tree, sink_log(&sink));

	o.open_event_fd = socket_events;
	return o;
}

static void add_azblob(int monitor, size_t ring)
{
	fake_add_azblob(&tree, DEV_GUID, monitor, ring);
}

static void setup(void)
{
	fake_tree_init(&tree);
	host_fd = -1;
}

static void teardown(void)
{
	if (host_fd >= 0)
		close(host_fd);
	fake_tree_fini(&tree);
}

TestSuite(dev, .init = setup, .fini = teardown);

Test(dev, discovery)
{
	struct fake_dev_spec net = {.guid = NET_GUID,
				    .class_guid = NETVSC_CLASS,
				    .driver = "hv_netvsc",
				    .relid = 2,
				    .numa = 1,
				    .monitor_id = 3,
				    .uio = -1};
	struct fake_dev_spec broken = {.guid = "77777777-1111-4222-8333-444444444444",
				       .relid = 9,
				       .numa = 0,
				       .monitor_id = -1,
				       .uio = -1};
	struct uvmbus_dev_opts o;
	struct uvmbus_dev_info list[8], info;
	size_t n;

	add_azblob(255, RING);
	fake_add_device(&tree, &net);
	fake_add_device(&tree, &broken); /* no class_id */
	o = opts();
	cr_assert_eq(uvmbus_dev_list(&o, list, 8, &n), 0);
	cr_assert_eq(n, 2u, "the device without class_id is skipped");
	cr_expect_neq(strstr(sink.text, "class_id"), NULL, "and reported: %s", sink.text);
	cr_assert_eq(uvmbus_dev_find_class(&o, "{" AZBLOB_CLASS "}", &info), 0);
	cr_expect_str_eq(info.guid, DEV_GUID);
	cr_expect_str_eq(info.class_guid, AZBLOB_CLASS);
	cr_expect_eq(info.relid, 14u);
	cr_expect_eq(info.numa_node, 0);
	cr_expect_eq(info.monitor_id, -1, "255 means no monitor");
	cr_expect_str_eq(info.driver, "uio_hv_generic");
	cr_expect_eq(info.uio, 0);
	cr_expect_eq(info.nchannels, 1u);
	cr_assert_eq(uvmbus_dev_find_class(&o, NETVSC_CLASS, &info), 0);
	cr_expect_eq(info.monitor_id, 3);
	cr_expect_eq(info.numa_node, 1);
	cr_expect_str_eq(info.driver, "hv_netvsc");
	cr_expect_eq(info.uio, -1);
	cr_expect_eq(uvmbus_dev_find_class(&o, "00000000-0000-0000-0000-000000000000", &info),
		     -ENOENT);
	o.sysfs_root = "/nonexistent";
	cr_expect_eq(uvmbus_dev_list(&o, list, 8, &n), -ENOENT);
}

Test(dev, root_from_environment)
{
	struct uvmbus_dev_info list[2];
	size_t n;

	add_azblob(255, RING);
	setenv("UVMBUS_SYSFS_ROOT", tree.sys, 1);
	cr_assert_eq(uvmbus_dev_list(NULL, list, 2, &n), 0);
	cr_expect_eq(n, 1u);
	unsetenv("UVMBUS_SYSFS_ROOT");
}

Test(dev, open_maps_rings_and_reports_limits)
{
	struct uvmbus_dev_opts o = opts();
	struct uvmbus_dev *d;
	char p[PATH_MAX];
	size_t len;

	add_azblob(255, RING);
	cr_assert_eq(uvmbus_dev_open(&d, DEV_GUID, &o), 0, "%s", sink.text);
	cr_expect_str_eq(uvmbus_dev_get_info(d)->guid, DEV_GUID);
	struct uvmbus_chan *c = uvmbus_dev_channel(d, 0);

	cr_assert_not_null(c);
	cr_expect_null(uvmbus_dev_channel(d, 1));
	cr_expect_eq(uvmbus_chan_max_packet(c), 65536u - 16u);
	cr_expect_eq(uvmbus_chan_max_gpa_pfns(c, 56), (65520u - 32u - 56u) / 8u);

	/* The host (here: a mapping of the same ring file) completes a
	 * packet on RX; the guest reads it through the channel. */
	snprintf(p, sizeof(p), "%s/bus/vmbus/devices/" DEV_GUID "/channels/14/ring", tree.sys);
	uint8_t *ring = fake_map(p, &len);
	struct uvmbus_ring *host_tx;

	cr_assert_eq(len, 2u * RING);
	cr_expect_eq(((struct vmbus_ring_hdr *)(ring + RING))->interrupt_mask, 1u,
		     "polling: RX interrupts masked at open");
	cr_assert_eq(uvmbus_ring_attach(&host_tx, ring + RING, RING, 4096, UVMBUS_RING_PRODUCER),
		     0);
	cr_assert_eq(uvmbus_pkt_write_completion(host_tx, 5, "ok", 2, NULL), 0);
	uint8_t buf[64];

	cr_assert_eq(uvmbus_ring_read(uvmbus_chan_rx(c), buf, sizeof(buf), &len), 0);
	cr_expect_eq(((struct vmbus_pkt_desc *)buf)->trans_id, 5u);
	/* and the guest's TX lands at the start of the file */
	cr_assert_eq(uvmbus_pkt_write_inband(uvmbus_chan_tx(c), 9, 1, "x", 1, NULL), 0);
	cr_expect_eq(((struct vmbus_ring_hdr *)ring)->write_index, 32u);
	uvmbus_ring_detach(host_tx);
	munmap(ring, 2 * RING);
	uvmbus_dev_close(d);
}

Test(dev, refuses_unbound_and_bad_layouts)
{
	struct uvmbus_dev_opts o = opts();
	struct uvmbus_dev *d;
	struct fake_dev_spec net = {.guid = NET_GUID,
				    .class_guid = NETVSC_CLASS,
				    .driver = "hv_netvsc",
				    .relid = 2,
				    .numa = 0,
				    .monitor_id = -1,
				    .uio = -1};
	struct fake_dev_spec bad = {.guid = DEV_GUID,
				    .class_guid = AZBLOB_CLASS,
				    .driver = "uio_hv_generic",
				    .relid = 14,
				    .numa = 0,
				    .monitor_id = -1,
				    .uio = 0,
				    .ring_bytes = RING,
				    .map_names = {NULL, "bogus", NULL}};

	fake_add_device(&tree, &net);
	cr_expect_eq(uvmbus_dev_open(&d, NET_GUID, &o), -ENODEV);
	cr_expect_neq(strstr(sink.text, "bind_uio.sh bind " NET_GUID), NULL, "%s", sink.text);
	cr_expect_eq(uvmbus_dev_open(&d, "not-a-guid", &o), -EINVAL);
	cr_expect_eq(uvmbus_dev_open(&d, "12345678-1234-1234-1234-123456789abc", &o), -ENOENT);

	fake_add_device(&tree, &bad);
	o = opts();
	cr_expect_eq(uvmbus_dev_open(&d, DEV_GUID, &o), -EPROTO);
	cr_expect_neq(strstr(sink.text, "uio/uio0/maps/map1/name is 'bogus', expected 'int_page'"),
		      NULL, "%s", sink.text);
}

Test(dev, missing_uio_node)
{
	struct uvmbus_dev_opts o = opts();
	struct uvmbus_dev *d;
	char p[PATH_MAX];

	add_azblob(-1, RING);
	snprintf(p, sizeof(p), "%s/uio0", tree.dev);
	unlink(p);
	cr_expect_eq(uvmbus_dev_open(&d, DEV_GUID, &o), -ENOENT);
	cr_expect_neq(strstr(sink.text, p), NULL, "message names the path: %s", sink.text);
}

Test(dev, ring_too_small_or_malformed)
{
	struct uvmbus_dev_opts o = opts();
	struct uvmbus_dev *d;
	char p[PATH_MAX];

	add_azblob(-1, RING);
	o.min_packet = 65624; /* an 8192-page request: needs more than 64 KiB */
	cr_expect_eq(uvmbus_dev_open(&d, DEV_GUID, &o), -ENOSPC);
	cr_expect_neq(strstr(sink.text, "cannot carry even a 65624-byte request"), NULL, "%s",
		      sink.text);
	/* A map 0 that is not two rings of whole pages (the primary's size
	 * comes from it, not from the ring file). */
	snprintf(p, sizeof(p), "%s/bus/vmbus/devices/" DEV_GUID "/uio/uio0/maps/map0/size",
		 tree.sys);
	fake_put(p, "0x%x\n", 3 * 4096 + 8);
	o = opts();
	cr_expect_eq(uvmbus_dev_open(&d, DEV_GUID, &o), -EPROTO);
	cr_expect_neq(strstr(sink.text, "is not two rings of whole pages"), NULL, "%s", sink.text);
}

/* The ring file's size is not trusted (older kernels report a fixed
 * 4 MiB): a size that splits the rings wrongly is caught by the feature
 * bits the kernel sets in both headers. */
Test(dev, wrong_split_caught_by_feature_bits)
{
	struct uvmbus_dev_opts o = opts();
	struct uvmbus_dev *d;
	char p[PATH_MAX];

	add_azblob(-1, RING);
	snprintf(p, sizeof(p), "%s/bus/vmbus/devices/" DEV_GUID "/uio/uio0/maps/map0/size",
		 tree.sys);
	fake_put(p, "0x%x\n", 2 * RING - 2 * 4096); /* each ring one page short */
	cr_expect_eq(uvmbus_dev_open(&d, DEV_GUID, &o), -EPROTO);
	cr_expect_neq(strstr(sink.text, "these are not the ring headers"), NULL, "%s", sink.text);
	cr_expect_neq(strstr(sink.text, "fixed 4 MiB"), NULL, "names the likely cause: %s",
		      sink.text);
}

/* Without a primary ring file (older kernels, a device bound through
 * new_id after a re-offer) the rings come through map 0 of the uio node. */
Test(dev, primary_without_ring_file_uses_uio_map0)
{
	struct uvmbus_dev_opts o = opts();
	struct uvmbus_dev *d;
	char p[PATH_MAX];

	add_azblob(-1, RING);
	snprintf(p, sizeof(p), "%s/bus/vmbus/devices/" DEV_GUID "/channels/14/ring", tree.sys);
	cr_assert_eq(unlink(p), 0);
	cr_assert_eq(uvmbus_dev_open(&d, DEV_GUID, &o), 0, "%s", sink.text);
	cr_expect_neq(strstr(sink.text, "is missing: the rings through"), NULL, "%s", sink.text);
	struct uvmbus_chan *c = uvmbus_dev_channel(d, 0);

	cr_expect_eq(uvmbus_ring_data_size(uvmbus_chan_tx(c)), RING - 4096);
	cr_assert_eq(uvmbus_pkt_write_inband(uvmbus_chan_tx(c), 1, 0, "m", 1, NULL), 0);
	uvmbus_dev_close(d);
	/* the host's view of the rings: the packet is there */
	size_t len;
	snprintf(p, sizeof(p), "%s/uio0.map0", tree.dev);
	uint8_t *rings = fake_map(p, &len);

	cr_expect_eq(rings[4096], 6, "an in-band packet at the TX data start");
	munmap(rings, len);
}

static void *late_ring(void *arg)
{
	struct timespec t = {0, 150 * 1000 * 1000};

	(void)arg;
	nanosleep(&t, NULL);
	fake_add_ring(&tree, DEV_GUID, 15, RING);
	return NULL;
}

/* A subchannel's ring file may appear after the device is bound. */
Test(dev, subchannel_ring_file_appears_late)
{
	struct uvmbus_dev_opts o = opts();
	struct uvmbus_dev *d;
	char p[PATH_MAX];
	pthread_t th;

	add_azblob(-1, RING);
	snprintf(p, sizeof(p), "%s/bus/vmbus/devices/" DEV_GUID "/channels/15/cpu", tree.sys);
	fake_put(p, "0\n");
	o.ring_wait_ms = 100;
	cr_assert_eq(uvmbus_dev_open(&d, DEV_GUID, &o), 0, "%s", sink.text);
	cr_expect_eq(uvmbus_dev_open_subchannels(d), -ETIMEDOUT, "never there in time");
	cr_expect_neq(strstr(sink.text, "did not appear within 100 ms"), NULL, "%s", sink.text);
	uvmbus_dev_close(d);
	if (host_fd >= 0)
		close(host_fd), host_fd = -1;
	o = opts();
	o.ring_wait_ms = 5000;
	cr_assert_eq(uvmbus_dev_open(&d, DEV_GUID, &o), 0, "%s", sink.text);
	pthread_create(&th, NULL, late_ring, NULL);
	cr_expect_eq(uvmbus_dev_open_subchannels(d), 2, "%s", sink.text);
	pthread_join(th, NULL);
	uvmbus_dev_close(d);
}

static uint8_t *uio_pages(size_t *len)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/uio0", tree.dev);
	return fake_map(p, len);
}

Test(dev, signal_with_monitor)
{
	struct uvmbus_dev_opts o = opts();
	struct uvmbus_dev *d;
	struct uvmbus_chan_stats st;
	uint32_t got;
	size_t len;

	add_azblob(37, RING);
	cr_assert_eq(uvmbus_dev_open(&d, DEV_GUID, &o), 0, "%s", sink.text);
	struct uvmbus_chan *c = uvmbus_dev_channel(d, 0);
	uint8_t *pages = uio_pages(&len);

	cr_assert_eq(uvmbus_chan_signal(c), 0);
	/* monitor id 37: trigger group 1 (offset 8 + 8), bit 5 */
	uint32_t pending;

	memcpy(&pending, pages + 2 * 4096 + 16, 4);
	cr_expect_eq(pending, 1u << 5);
	memcpy(&pending, pages + 2 * 4096 + 8, 4);
	cr_expect_eq(pending, 0u, "group 0 untouched");
	cr_expect_eq(recv(host_fd, &got, 4, MSG_DONTWAIT), -1, "no write to the uio fd");
	uvmbus_chan_get_stats(c, &st);
	cr_expect_eq(st.signals, 1u);
	munmap(pages, len);
	uvmbus_dev_close(d);
}

Test(dev, signal_without_monitor)
{
	struct uvmbus_dev_opts o = opts();
	struct uvmbus_dev *d;
	uint32_t got = 0, word;
	size_t len;

	add_azblob(-1, RING);
	cr_assert_eq(uvmbus_dev_open(&d, DEV_GUID, &o), 0, "%s", sink.text);
	struct uvmbus_chan *c = uvmbus_dev_channel(d, 0);
	uint8_t *pages = uio_pages(&len);

	cr_assert_eq(uvmbus_chan_signal(c), 0);
	/* relid 14: bit 14 of the first word of the send half (byte 2048) */
	memcpy(&word, pages + 4096 + 2048, 4);
	cr_expect_eq(word, 1u << 14);
	cr_expect_eq(recv(host_fd, &got, 4, MSG_DONTWAIT), 4, "4-byte write to the uio fd");
	cr_expect_eq(got, 1u);
	munmap(pages, len);
	uvmbus_dev_close(d);
}

Test(dev, wait_rechecks_then_blocks)
{
	struct uvmbus_dev_opts o = opts();
	struct uvmbus_dev *d;
	struct uvmbus_chan_stats st;
	struct uvmbus_ring *host_tx;
	char p[PATH_MAX];
	uint32_t cmd, count = 3;
	size_t len;

	add_azblob(-1, RING);
	cr_assert_eq(uvmbus_dev_open(&d, DEV_GUID, &o), 0, "%s", sink.text);
	struct uvmbus_chan *c = uvmbus_dev_channel(d, 0);

	uvmbus_chan_set_polling(c, false);
	cr_expect_eq(uvmbus_chan_wait(c, 50), 0, "timeout");
	cr_expect_eq(recv(host_fd, &cmd, 4, MSG_DONTWAIT), 4, "unmask written before waiting");

	/* Data already in RX: no block, even with no event pending. */
	snprintf(p, sizeof(p), "%s/bus/vmbus/devices/" DEV_GUID "/channels/14/ring", tree.sys);
	uint8_t *ring = fake_map(p, &len);

	cr_assert_eq(uvmbus_ring_attach(&host_tx, ring + RING, RING, 4096, UVMBUS_RING_PRODUCER),
		     0);
	cr_assert_eq(uvmbus_pkt_write_completion(host_tx, 1, "a", 1, NULL), 0);
	uvmbus_chan_get_stats(c, &st);
	uint64_t waits = st.waits;

	cr_expect_eq(uvmbus_chan_wait(c, 10000), 1);
	uvmbus_chan_get_stats(c, &st);
	cr_expect_eq(st.waits, waits, "re-check found the data: did not block");
	cr_assert_eq(uvmbus_ring_skip(uvmbus_chan_rx(c)), 0);
	uvmbus_ring_read_commit(uvmbus_chan_rx(c), NULL);

	/* An interrupt event wakes the waiter and is counted. */
	cr_assert_eq(send(host_fd, &count, 4, 0), 4);
	cr_expect_eq(uvmbus_chan_wait(c, 10000), 1);
	uvmbus_chan_get_stats(c, &st);
	cr_expect_eq(st.interrupts, 3u);
	uvmbus_ring_detach(host_tx);
	munmap(ring, 2 * RING);
	uvmbus_dev_close(d);
}

/* Rescind with a real EIO: a pty master reads EIO once its slave is gone. */
static int slave_fd = -1;

static int pty_events(void *arg, const char *uio_path)
{
	struct termios t;
	int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);

	(void)arg;
	(void)uio_path;
	if (m < 0 || grantpt(m) || unlockpt(m))
		return -errno;
	slave_fd = open(ptsname(m), O_RDWR | O_NOCTTY);
	if (slave_fd < 0 || tcgetattr(slave_fd, &t))
		return -errno;
	cfmakeraw(&t);
	tcsetattr(slave_fd, TCSANOW, &t);
	return m;
}

Test(dev, rescind_eio_stops_everything)
{
	struct uvmbus_dev_opts o = opts();
	struct uvmbus_dev *d;
	char p[PATH_MAX];

	/* Under qemu-aarch64 7.2 (the arm64 unit tests, docs/PORTING.md) a
	 * pseudo-terminal cannot be set up (ENODEV): skipped there. */
	int probe = pty_events(NULL, NULL);

	if (probe < 0)
		cr_skip_test("no pseudo-terminal here: %s", strerror(-probe));
	close(probe);
	close(slave_fd);
	add_azblob(-1, RING);
	o.open_event_fd = pty_events;
	cr_assert_eq(uvmbus_dev_open(&d, DEV_GUID, &o), 0, "%s", sink.text);
	struct uvmbus_chan *c = uvmbus_dev_channel(d, 0);

	uvmbus_chan_set_polling(c, false);
	close(slave_fd); /* the host removes the device */
	cr_expect_eq(uvmbus_chan_wait(c, 5000), -ENODEV);
	cr_expect(uvmbus_chan_dead(c));
	cr_expect_neq(strstr(sink.text, "removed by the host"), NULL, "%s", sink.text);

	/* Any touch of the mappings now would SIGBUS: the files are gone. */
	snprintf(p, sizeof(p), "%s/bus/vmbus/devices/" DEV_GUID "/channels/14/ring", tree.sys);
	cr_assert_eq(truncate(p, 0), 0);
	snprintf(p, sizeof(p), "%s/uio0", tree.dev);
	cr_assert_eq(truncate(p, 0), 0);
	cr_expect_eq(uvmbus_chan_signal(c), -ENODEV);
	cr_expect_eq(uvmbus_chan_wait(c, 10), -ENODEV);
	cr_expect_null(uvmbus_chan_tx(c));
	cr_expect_null(uvmbus_chan_rx(c));
	cr_expect_eq(uvmbus_dev_open_subchannels(d), -ENODEV);
	uvmbus_chan_set_polling(c, true);
	uvmbus_dev_close(d);
}

Test(dev, rescind_hangup_in_signal)
{
	struct uvmbus_dev_opts o = opts();
	struct uvmbus_dev *d;

	add_azblob(-1, RING);
	cr_assert_eq(uvmbus_dev_open(&d, DEV_GUID, &o), 0, "%s", sink.text);
	struct uvmbus_chan *c = uvmbus_dev_channel(d, 0);

	close(host_fd);
	host_fd = -1;
	cr_expect_eq(uvmbus_chan_signal(c), -ENODEV, "write fails: device gone");
	cr_expect(uvmbus_chan_dead(c));
	uvmbus_dev_close(d);
}

Test(dev, refuses_isolated_vm)
{
	struct uvmbus_dev_opts o = opts();
	struct uvmbus_dev *d;
	char p[PATH_MAX];

	add_azblob(-1, RING);
	snprintf(p, sizeof(p), "%s/cpuinfo", tree.proc);
	fake_put(p, "processor\t: 0\nflags\t\t: fpu hypervisor sev sev_es sev_snp\n");
	cr_expect_eq(uvmbus_dev_open(&d, DEV_GUID, &o), -EPERM);
	cr_expect_neq(strstr(sink.text, "isolated (confidential) VM"), NULL, "%s", sink.text);
}

Test(dev, subchannels)
{
	struct uvmbus_dev_opts o = opts();
	struct uvmbus_dev *d;
	char p[PATH_MAX];

	add_azblob(-1, RING);
	fake_add_ring(&tree, DEV_GUID, 15, RING);
	snprintf(p, sizeof(p), "%s/bus/vmbus/devices/" DEV_GUID "/channels/15/monitor_id",
		 tree.sys);
	fake_put(p, "40\n");
	cr_assert_eq(uvmbus_dev_open(&d, DEV_GUID, &o), 0, "%s", sink.text);
	cr_expect_eq(uvmbus_dev_channel_count(d), 1u);
	cr_expect_eq(uvmbus_dev_open_subchannels(d), 2);
	cr_expect_eq(uvmbus_dev_open_subchannels(d), 2, "idempotent");
	struct uvmbus_chan *sub = uvmbus_dev_channel(d, 1);

	cr_assert_not_null(sub);
	cr_expect_eq(uvmbus_chan_relid(sub), 15u);
	cr_assert_eq(uvmbus_pkt_write_inband(uvmbus_chan_tx(sub), 1, 0, "s", 1, NULL), 0);
	cr_assert_eq(uvmbus_chan_signal(sub), 0);
	size_t len;
	uint8_t *pages = uio_pages(&len);
	uint32_t pending;

	memcpy(&pending, pages + 2 * 4096 + 16, 4); /* monitor 40: group 1, bit 8 */
	cr_expect_eq(pending, 1u << 8);
	munmap(pages, len);
	uvmbus_dev_close(d);
}
