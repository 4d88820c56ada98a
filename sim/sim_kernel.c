// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Kernel profiles: the uio_hv_generic variants the simulator reproduces.
 * Sources and how sure we are of each line: docs/DEVICE.md, "Kernel
 * profiles", and docs/FIDELITY.md.
 */
#include <string.h>

#include "sim_internal.h"

#define RING_2M	  (2u << 20)
#define RING_2M4K ((2u << 20) + SIM_PAGE)

/* The table's sizes are those of a 4 KiB kernel. With bigger pages, rings
 * of 512 pages (uio_hv_generic's HV_RING_SIZE * PAGE_SIZE before 2025) are
 * 512 of them, and VMBUS_RING_SIZE(SZ_2M) (the 2025 "Align ring size to
 * system page") is 2 MiB and one header page. */
uint32_t sim_kernel_ring_bytes(const struct azblob_sim_kernel *k, size_t page)
{
	if (k->ring_bytes == RING_2M)
		return (uint32_t)(RING_2M / SIM_PAGE * page);
	if (k->ring_bytes == RING_2M4K)
		return (uint32_t)(RING_2M + page);
	return k->ring_bytes;
}

static const struct azblob_sim_kernel kernels[] = {
    {
	.name = "5.10",
	.kernels = "5.4 to 6.9 without the 2025 uio_hv_generic backports",
	.differs = "rings 2 MiB, ring file 4 MiB (right), kernel masks RX, monitor required",
	.osrelease = "5.10.0-30-amd64",
	.ring_bytes = RING_2M,
	.ring_file_fixed = true,
	.kernel_masks_rx = true,
	.monitor_required = true,
	.monitor_id = 3,
    },
    {
	.name = "5.10-newid",
	.kernels = "as 5.10, after a re-offer of a device bound through new_id",
	.differs = "as 5.10, no primary ring file: rings only through /dev/uioN map 0",
	.osrelease = "5.10.0-30-amd64",
	.ring_bytes = RING_2M,
	.ring_file_fixed = true,
	.no_ring_file = true,
	.kernel_masks_rx = true,
	.monitor_required = true,
	.monitor_id = 3,
    },
    {
	.name = "6.1",
	.kernels = "before 6.10 (Debian 12's 6.1), host offers no monitor",
	.differs = "binding refused: vmbus channel requires hypercall (error 524)",
	.osrelease = "6.1.0-40-amd64",
	.ring_bytes = RING_2M,
	.ring_file_fixed = true,
	.kernel_masks_rx = true,
	.monitor_required = true,
	.monitor_id = -1,
    },
    {
	.name = "6.1.y-2025",
	.kernels = "5.10.y to 6.12.41 stable with the 2025 ring-size and mask backports",
	.differs = "rings 2 MiB + 4 KiB but ring file 4 MiB (wrong), mask left alone",
	.osrelease = "6.1.0-41-amd64",
	.ring_bytes = RING_2M4K,
	.ring_file_fixed = true,
	.monitor_required = true,
	.monitor_id = 3,
    },
    {
	.name = "6.10",
	.kernels = "6.10 to 6.14 without the 2025 backports",
	.differs = "no monitor: signal by write; rings 2 MiB, ring file 4 MiB, kernel masks RX",
	.osrelease = "6.10.11-amd64",
	.ring_bytes = RING_2M,
	.ring_file_fixed = true,
	.kernel_masks_rx = true,
	.monitor_id = -1,
    },
    {
	.name = "6.12.42",
	.kernels = "6.12.42 and later 6.12.y",
	.differs = "ring file sized to the rings (2 x (2 MiB + 4 KiB)), mask left alone, "
		   "no monitor, rings freed at rescind",
	.osrelease = "6.12.42-amd64",
	.ring_bytes = RING_2M4K,
	.set_event_subchannels = true,
	.rescind_frees_rings = true,
	.monitor_id = -1,
    },
    {
	.name = "6.15",
	.kernels = "mainline 6.15 and later",
	.differs = "as 6.12.42, with a monitor offered",
	.osrelease = "6.15.0-amd64",
	.ring_bytes = RING_2M4K,
	.set_event_subchannels = true,
	.rescind_frees_rings = true,
	.monitor_id = 5,
    },
};

const struct azblob_sim_kernel *azblob_sim_kernels(size_t *n)
{
	*n = sizeof(kernels) / sizeof(kernels[0]);
	return kernels;
}

const struct azblob_sim_kernel *azblob_sim_kernel_find(const char *name)
{
	for (size_t i = 0; name && i < sizeof(kernels) / sizeof(kernels[0]); i++)
		if (!strcmp(kernels[i].name, name))
			return &kernels[i];
	return NULL;
}
