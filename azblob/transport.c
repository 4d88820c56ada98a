// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * How a client reaches its device: one table of transports, tried in
 * order, the first whose match() takes the options opens c->dev.
 *   broker   azblobd's session (opts.broker or $AZBLOB_BROKER)
 *   simsock  an emulator's doorbell socket under opts.sim_root
 *   uio      a device bound to uio_hv_generic (the default)
 * The library knows no emulator: simsock is a device-level transport in
 * libuvmbus, as the broker's virtual channel is.
 */
#include <errno.h>
#include <string.h>

#include "internal.h"

/* Open the Azure Blob device under d's roots: the given GUID, or the first
 * of the class. */
static int open_uio(struct azblob_client *c, const struct azblob_opts *o,
		    const struct uvmbus_dev_opts *d)
{
	struct uvmbus_dev_info info;
	int rc;

	if (o->device_guid)
		return uvmbus_dev_open(&c->dev, o->device_guid, d);
	rc = uvmbus_dev_find_class(d, AZBLOB_CLASS_GUID_STR, &info);
	if (rc) {
		az_log(c, UVMBUS_LOG_ERR, "azblob: no Azure Blob device (class %s) found%s%s",
		       AZBLOB_CLASS_GUID_STR, rc == -ENOENT ? "" : ": ",
		       rc == -ENOENT ? "" : strerror(-rc));
		return rc == -ENOENT ? -ENODEV : rc;
	}
	return uvmbus_dev_open(&c->dev, info.guid, d);
}

static bool uio_match(const struct azblob_opts *o)
{
	(void)o;
	return true;
}

static int uio_open(struct azblob_client *c, const struct azblob_opts *o, struct uvmbus_dev_opts *d)
{
	return open_uio(c, o, d);
}

static bool simsock_match(const struct azblob_opts *o)
{
	return o->sim_root != NULL;
}

/* The emulator's device tree and sockets under sim_root; guest RAM is its
 * memfd (the client owns it from here on, as a broker session's arena). */
static int simsock_open(struct azblob_client *c, const struct azblob_opts *o,
			struct uvmbus_dev_opts *d)
{
	int rc = uvmbus_simsock_connect(o->sim_root, &c->simsock);

	if (rc) {
		az_log(c, UVMBUS_LOG_ERR, "azblob: no emulated device at %s: %s", o->sim_root,
		       strerror(-rc));
		return rc;
	}
	c->arena_fd = c->simsock.ram_fd;
	c->arena_bytes = c->simsock.ram_bytes;
	c->simsock.ram_fd = -1;
	uvmbus_simsock_dev_opts(&c->simsock, d);
	return open_uio(c, o, d);
}

static const struct az_transport transport_simsock = {"simsock", simsock_match, simsock_open};
static const struct az_transport transport_uio = {"uio", uio_match, uio_open};

static const struct az_transport *const transports[] = {
    &az_transport_broker,
    &transport_simsock,
    &transport_uio,
};

int az_transport_open(struct azblob_client *c, const struct azblob_opts *o)
{
	struct uvmbus_dev_opts d;

	uvmbus_dev_opts_init(&d);
	d.log = o->log;
	d.sysfs_root = o->sysfs_root;
	d.dev_root = o->dev_root;
	for (size_t i = 0; i < sizeof(transports) / sizeof(transports[0]); i++) {
		if (!transports[i]->match(o))
			continue;
		c->transport = transports[i];
		return transports[i]->open(c, o, &d);
	}
	return -ENODEV; /* not reached: uio takes anything */
}
