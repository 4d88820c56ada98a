/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* azblob-fuse: a container mounted as files (docs/FUSE.md). The program
 * azblob-fuse and `azblob mount` both run this. */
#ifndef AZBLOB_FUSE_AZFUSE_H
#define AZBLOB_FUSE_AZFUSE_H

/* argv[0] is the program's name for messages; the rest is
 * CONTAINER MOUNTPOINT [options]. Returns the exit status. */
int azfuse_main(int argc, char **argv);

#endif
