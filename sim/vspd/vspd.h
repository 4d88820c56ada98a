/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* azblob-vspd: what the daemon (azblob-vspd.c) and its command line
 * (vspd_options.c) share. */
#ifndef AZBLOB_VSPD_H
#define AZBLOB_VSPD_H

#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>

#include <azblob/sim.h>

#define PROG "azblob-vspd"

#define EXIT_USAGE   2
#define EXIT_RUNTIME 1

struct vspd {
	struct azblob_sim_opts o;
	char root[PATH_MAX]; /* --root made absolute */
	char backend_arg[PATH_MAX];
	char guid[40];
	const char *ready_file;
	const char *pid_file;
	bool pid_written, ready_written;
	enum uvmbus_log_level level;
	pthread_mutex_t log_lock;
	struct azblob_sim *sim;
	pthread_t sig_thread;
	sigset_t sigs;
	atomic_bool stopping;
};

/* Fill d from the command line (docs/VSPD.md); --help, --list-kernels and
 * usage errors exit here (0, or EXIT_RUNTIME when standard output fails; EXIT_USAGE). */
void vspd_parse_args(struct vspd *d, int argc, char **argv);

#endif
