/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* azblob CLI: the blob commands (cmd_blob.c, docs/BLOB.md). */
#ifndef AZBLOB_CLI_CMD_BLOB_H
#define AZBLOB_CLI_CMD_BLOB_H

struct cli;

int cmd_put(struct cli *cli, int argc, char **argv);
int cmd_get(struct cli *cli, int argc, char **argv);
int cmd_ls(struct cli *cli, int argc, char **argv);
int cmd_rm(struct cli *cli, int argc, char **argv);
int cmd_mb(struct cli *cli, int argc, char **argv);
int cmd_rb(struct cli *cli, int argc, char **argv);
/* stat: the client's counters (cmd_stat) or, with CONTAINER/BLOB, a blob's properties. */
int cmd_stat_any(struct cli *cli, int argc, char **argv);

/* --backend given before the command (main.c). */
void blob_set_backend(const char *spec);
int blob_backend_set(void);
/* Whether a command takes --backend. */
int blob_command(const char *name);

extern const char put_help[], get_help[], ls_help[], rm_help[], mb_help[], rb_help[];

#endif
