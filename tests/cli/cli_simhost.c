// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * cli_simhost: a simulator in its own process for the CLI and example
 * tests (what azblob-vspd does, reduced to what the tests need, so that
 * these tests depend on libazblobsim only).
 *
 *   cli_simhost READY_FILE
 *
 * Publishes a simulated Azure Blob device under a new directory, writes
 * that directory and a newline to READY_FILE (beside it, then renamed),
 * and serves until SIGTERM/SIGINT (exit 0, the tree removed). SIGUSR2
 * rescinds the device; SIGUSR1 prints the statistics on stderr. Dies with
 * its parent (PR_SET_PDEATHSIG).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <azblob/sim.h>

static void log_cb(void *arg, enum uvmbus_log_level lvl, const char *msg)
{
	(void)arg;
	fprintf(stderr, "cli_simhost: %d: %s\n", (int)lvl, msg);
}

int main(int argc, char **argv)
{
	struct azblob_sim_opts o;
	struct azblob_sim *s;
	char tmp[4096], stats[2048];
	sigset_t sigs;
	FILE *f;
	int sig, rc;

	if (argc != 2) {
		fprintf(stderr, "usage: cli_simhost READY_FILE\n");
		return 2;
	}
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGUSR1);
	sigaddset(&sigs, SIGUSR2);
	sigprocmask(SIG_BLOCK, &sigs, NULL); /* before the sim's thread exists */
	signal(SIGPIPE, SIG_IGN);
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	azblob_sim_opts_init(&o);
	o.ram_bytes = 128u << 20;
	o.no_hugetlb = true;
	o.log.fn = log_cb;
	o.log.max_level = UVMBUS_LOG_WARN;
	rc = azblob_sim_create(&s, &o);
	if (!rc)
		rc = azblob_sim_start(s);
	if (rc) {
		fprintf(stderr, "cli_simhost: %s\n", strerror(-rc));
		return 1;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp", argv[1]);
	f = fopen(tmp, "w");
	if (!f || fprintf(f, "%s\n", azblob_sim_root(s)) < 0 || fclose(f) || rename(tmp, argv[1])) {
		fprintf(stderr, "cli_simhost: %s: %s\n", argv[1], strerror(errno));
		azblob_sim_destroy(s);
		return 1;
	}
	for (;;) {
		if (sigwait(&sigs, &sig))
			continue;
		if (sig == SIGUSR1) {
			azblob_sim_format_stats(s, stats, sizeof(stats));
			fprintf(stderr, "cli_simhost: stats: %s\n", stats);
		} else if (sig == SIGUSR2) {
			azblob_sim_rescind(s);
		} else {
			break;
		}
	}
	azblob_sim_destroy(s);
	unlink(argv[1]);
	return 0;
}
