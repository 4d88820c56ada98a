/* azblob-bench: the helper processes it starts (azblob-vspd, azblobd),
 * waiting for their ready files, and where to find them. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "spawn.h"

/* Wait up to 10 s for a started helper (azblob-vspd, azblobd) to create
 * its ready file; 0, or -1 (it exited or never got ready: killed). */
static int wait_ready(struct host *h, const char *ready, const char *name)
{
	for (int i = 0; i < 1000; i++) {
		struct stat st;
		int status;

		if (stat(ready, &st) == 0)
			return 0;
		if (waitpid(h->pid, &status, WNOHANG) == h->pid) {
			fprintf(stderr, "azblob-bench: %s exited (status %d)\n", name, status);
			return -1;
		}
		usleep(10000);
	}
	fprintf(stderr, "azblob-bench: %s did not get ready\n", name);
	kill(h->pid, SIGKILL);
	return -1;
}

int host_start(const struct cfg *cfg, struct host *h, bool poll_mode, uint64_t ram)
{
	char ready[160], cpu[16], ramarg[32];

	h->dir[0] = 0;
	snprintf(h->root, sizeof(h->root), "/dev/shm/azblob-bench-%d-%s", (int)getpid(),
		 poll_mode ? "poll" : "irq");
	snprintf(ready, sizeof(ready), "%s.ready", h->root);
	snprintf(cpu, sizeof(cpu), "%d", cfg->host_cpu);
	snprintf(ramarg, sizeof(ramarg), "%lluM", (unsigned long long)(ram >> 20));
	unlink(ready);
	h->pid = fork();
	if (h->pid == 0) {
		const char *argv[16] = {cfg->vspd, "--root",	  h->root, "--ready-file",
					ready,	   "--cpu",	  cpu,	   "--ram",
					ramarg,	   "--log-level", "err"};
		int n = 11;

		if (poll_mode)
			argv[n++] = "--poll";
		if (!strcmp(cfg->host, "null")) {
			argv[n++] = "--backend";
			argv[n++] = "null";
		}
		argv[n] = NULL;
		if (!freopen("/dev/null", "w", stdout))
			_exit(127);
		execv(cfg->vspd, (char *const *)argv);
		fprintf(stderr, "azblob-bench: cannot run %s: %s\n", cfg->vspd, strerror(errno));
		_exit(127);
	}
	return wait_ready(h, ready, "azblob-vspd");
}

void host_stop(struct host *h)
{
	int status;

	if (h->pid <= 0)
		return;
	kill(h->pid, SIGTERM);
	waitpid(h->pid, &status, 0);
	h->pid = 0;
	if (h->dir[0]) {
		char ready[96];

		snprintf(ready, sizeof(ready), "%s/ready", h->dir);
		unlink(ready);
		unlink(h->root);
		rmdir(h->dir);
		h->dir[0] = 0;
	}
}

/* --via broker: azblobd on the host CPU with its own simulated device;
 * with the null host in poll mode the daemon steps it in its own loop
 * (--sim-step: daemon and host share the host CPU, no third spinner). */
int broker_start(const struct cfg *cfg, struct host *h, bool poll_mode, uint32_t size, unsigned qd)
{
	char ready[160], cpu[16], bsize[32], bbufs[16];
	bool null = !strcmp(cfg->host, "null");

	/* A directory of its own: azblobd refuses one others may write in
	 * (/dev/shm itself). */
	snprintf(h->dir, sizeof(h->dir), "/dev/shm/azblob-bench-XXXXXX");
	if (!mkdtemp(h->dir)) {
		fprintf(stderr, "azblob-bench: mkdtemp %s: %s\n", h->dir, strerror(errno));
		h->dir[0] = 0;
		return -1;
	}
	snprintf(h->root, sizeof(h->root), "%s/azblobd.sock", h->dir);
	snprintf(ready, sizeof(ready), "%s/ready", h->dir);
	snprintf(cpu, sizeof(cpu), "%d", cfg->host_cpu);
	snprintf(bsize, sizeof(bsize), "%u", size + (128u << 10));
	snprintf(bbufs, sizeof(bbufs), "%u", qd + 4);
	unlink(ready);
	h->pid = fork();
	if (h->pid == 0) {
		const char *argv[32] = {cfg->azblobd,	 "--sim",
					"--sim-backend", null ? "null" : "memory",
					"--mode",	 poll_mode ? "poll" : "interrupt",
					"--cpu",	 cpu,
					"--socket",	 h->root,
					"--ready-file",	 ready,
					"--bounce-size", bsize,
					"--bounce-bufs", bbufs,
					"--log-level",	 "err"};
		int n = 18;

		if (null && poll_mode)
			argv[n++] = "--sim-step";
		argv[n] = NULL;
		execv(cfg->azblobd, (char *const *)argv);
		fprintf(stderr, "azblob-bench: cannot run %s: %s\n", cfg->azblobd, strerror(errno));
		_exit(127);
	}
	return wait_ready(h, ready, "azblobd");
}

/* The programs azblob-bench starts, relative to its own directory: next to
 * it (installed in bin/, or all in one folder as in the QEMU guest), then
 * sbin/ (azblobd installed), then the build tree's folders. The first that
 * exists, else the first candidate (its exec fails with a message). */
const char *const VSPD_PATHS[] = {"azblob-vspd", "../sim/vspd/azblob-vspd", NULL};
const char *const AZBLOBD_PATHS[] = {"azblobd", "../sbin/azblobd", "../broker/azblobd", NULL};
const char *const CUSE_PATHS[] = {"azblob-cuse", "../cuse/azblob-cuse", NULL};

const char *helper_path(char *out, size_t cap, const char *const *rel)
{
	ssize_t k = readlink("/proc/self/exe", out, cap - 1);
	size_t dir;

	if (k <= 0)
		return rel[0];
	out[k] = 0;
	dir = (size_t)(strrchr(out, '/') + 1 - out);
	for (const char *const *r = rel; *r; r++) {
		if (dir + strlen(*r) >= cap)
			continue;
		strcpy(out + dir, *r);
		if (!access(out, X_OK))
			return out;
	}
	if (dir + strlen(rel[0]) < cap)
		strcpy(out + dir, rel[0]);
	return out;
}
