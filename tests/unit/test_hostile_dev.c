/* The host's numbers at open: a relid or monitor id that does not fit the
 * interrupt page (16384 send bits from byte 2048) or the monitor page (4
 * trigger groups of 32) is refused with -EPROTO and a message, before any
 * signal could write outside the page. The last valid values still work. */
#include <criterion/criterion.h>
#include <errno.h>

#include <uvmbus/dev.h>

#include "fake_sysfs.h"
#include "mem_fixture.h" /* log sink */

#define DEV_GUID "1a2b3c4d-0000-4000-8000-00000000abcd"
#define RING	 (4096u + 65536u)

static struct fake_tree tree;
static struct log_sink sink;

static struct uvmbus_dev_opts opts(void)
{
	return fake_dev_opts(&tree, sink_log(&sink));
}

static void add(uint32_t relid, int monitor)
{
	struct fake_dev_spec s = {.guid = DEV_GUID,
				  .class_guid = AZBLOB_CLASS,
				  .driver = "uio_hv_generic",
				  .relid = relid,
				  .monitor_id = monitor,
				  .uio = 0,
				  .ring_bytes = RING};

	fake_add_device(&tree, &s);
}

/* The uio stand-in's pages 1 (interrupt) and 2 (monitor), as the host sees them. */
static uint32_t page_word(int page, size_t off)
{
	char p[PATH_MAX];
	size_t len;
	uint8_t *m;
	uint32_t w;

	snprintf(p, sizeof(p), "%s/uio0", tree.dev);
	m = fake_map(p, &len);
	memcpy(&w, m + page * 4096 + off, 4);
	munmap(m, len);
	return w;
}

static void setup(void)
{
	fake_tree_init(&tree);
}

static void teardown(void)
{
	fake_tree_fini(&tree);
}

TestSuite(dev_hostile, .init = setup, .fini = teardown);

/* Open must refuse the device with -EPROTO and say `what` in the log. */
static void expect_refused(const char *what)
{
	struct uvmbus_dev_opts o = opts();
	struct uvmbus_dev *d = NULL;
	int rc = uvmbus_dev_open(&d, DEV_GUID, &o);

	cr_assert_eq(rc, -EPROTO, "open with %s returned %d, expected %d", what, rc, -EPROTO);
	cr_expect_null(d);
	cr_expect_neq(strstr(sink.text, what), NULL, "%s", sink.text);
}

Test(dev_hostile, relid_beyond_interrupt_page)
{
	add(16384, -1);
	expect_refused("relid 16384");
}

Test(dev_hostile, relid_huge)
{
	add(4000000000u, 5); /* with a monitor: the relid is still checked */
	expect_refused("relid 4000000000");
}

Test(dev_hostile, last_relid_signals_last_bit)
{
	struct uvmbus_dev_opts o = opts();
	struct uvmbus_dev *d;

	add(16383, -1);
	cr_assert_eq(uvmbus_dev_open(&d, DEV_GUID, &o), 0, "%s", sink.text);
	cr_assert_eq(uvmbus_chan_signal(uvmbus_dev_channel(d, 0)), 0);
	/* bit 16383 of the send half: the page's last word, top bit */
	cr_expect_eq(page_word(1, 4092), 1u << 31);
	uvmbus_dev_close(d);
}

Test(dev_hostile, monitor_id_beyond_trigger_groups)
{
	add(14, 128);
	expect_refused("monitor_id 128");
}

Test(dev_hostile, monitor_id_not_a_number)
{
	char p[PATH_MAX];

	add(14, 3);
	snprintf(p, sizeof(p), "%s/bus/vmbus/devices/" DEV_GUID "/monitor_id", tree.sys);
	fake_put(p, "3x\n");
	expect_refused("monitor_id 3x");
}

Test(dev_hostile, monitor_255_is_none_127_is_last)
{
	struct uvmbus_dev_opts o = opts();
	struct uvmbus_dev *d;

	add(14, 255);
	cr_assert_eq(uvmbus_dev_open(&d, DEV_GUID, &o), 0, "%s", sink.text);
	cr_assert_eq(uvmbus_chan_signal(uvmbus_dev_channel(d, 0)), 0);
	cr_expect_eq(page_word(1, 2048), 1u << 14, "255: no monitor, relid bit");
	uvmbus_dev_close(d);

	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/bus/vmbus/devices/" DEV_GUID "/monitor_id", tree.sys);
	fake_put(p, "127\n");
	cr_assert_eq(uvmbus_dev_open(&d, DEV_GUID, &o), 0, "%s", sink.text);
	cr_assert_eq(uvmbus_chan_signal(uvmbus_dev_channel(d, 0)), 0);
	/* monitor 127: trigger group 3 (offset 8 + 24), bit 31 */
	cr_expect_eq(page_word(2, 32), 1u << 31);
	uvmbus_dev_close(d);
}

Test(dev_hostile, subchannel_relid_and_monitor_checked)
{
	struct uvmbus_dev_opts o = opts();
	struct uvmbus_dev *d;
	char p[PATH_MAX];
	int rc;

	add(14, -1);
	fake_add_ring(&tree, DEV_GUID, 15, RING);
	snprintf(p, sizeof(p), "%s/bus/vmbus/devices/" DEV_GUID "/channels/15/monitor_id",
		 tree.sys);
	fake_put(p, "200\n");
	cr_assert_eq(uvmbus_dev_open(&d, DEV_GUID, &o), 0, "%s", sink.text);
	rc = uvmbus_dev_open_subchannels(d);
	cr_expect_eq(rc, -EPROTO, "subchannel with monitor_id 200: %d, expected %d", rc, -EPROTO);
	cr_expect_eq(uvmbus_dev_channel_count(d), 1u);
	uvmbus_dev_close(d);

	fake_put(p, "255\n");
	fake_add_ring(&tree, DEV_GUID, 70000, RING);
	cr_assert_eq(uvmbus_dev_open(&d, DEV_GUID, &o), 0, "%s", sink.text);
	rc = uvmbus_dev_open_subchannels(d);
	cr_expect_eq(rc, -EPROTO, "subchannel with relid 70000: %d, expected %d", rc, -EPROTO);
	cr_expect_neq(strstr(sink.text, "relid 70000"), NULL, "%s", sink.text);
	uvmbus_dev_close(d);
}
