// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* azblob-fuse CONTAINER MOUNTPOINT [options] (azblob-fuse(8)). */
#include "azfuse.h"

int main(int argc, char **argv)
{
	return azfuse_main(argc, argv);
}
