/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* azblob CLI: stat --broker (cmd_broker.c, docs/BROKER.md). */
#ifndef AZBLOB_CLI_CMD_BROKER_H
#define AZBLOB_CLI_CMD_BROKER_H

#include <stdbool.h>

struct cli;

extern const char broker_stat_help[];
/* The command line asks for the broker's counters (--broker). */
bool cmd_broker_wanted(int argc, char **argv);
int cmd_broker_stat(struct cli *cli, int argc, char **argv);

#endif
