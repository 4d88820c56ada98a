// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * azblob-bench --via cuse: the original driver's interface served from user
 * space. azblob-cuse (the CUSE front end, docs/CUSE.md) is started as the
 * client of the simulated host the other modes use, and this process makes
 * one ioctl at a time on its device, as an unmodified program does. Latency
 * is per ioctl; CPU per request counts both sides of the device: this
 * process (getrusage) and the daemon (/proc/PID/stat), since the kernel
 * driver's cost was all in the caller's ioctl.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <azblob/vsp_wire.h>

#include "via_cuse.h"

#define REQ_NR _IOWR('R', 0xf0, struct azblob_request_sync_abi)

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t self_cpu_ns(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ((uint64_t)ru.ru_utime.tv_sec + (uint64_t)ru.ru_stime.tv_sec) * 1000000000u +
	       ((uint64_t)ru.ru_utime.tv_usec + (uint64_t)ru.ru_stime.tv_usec) * 1000u;
}

/* utime + stime of a process, all its threads (clock ticks -> ns). */
static uint64_t proc_cpu_ns(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long long ut = 0, st = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	p = fgets(buf, sizeof(buf), f) ? strrchr(buf, ')') : NULL;
	fclose(f);
	if (!p ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
		return 0;
	return (ut + st) * (1000000000ull / (unsigned long long)sysconf(_SC_CLK_TCK));
}

int via_cuse_run(const struct via_cuse_cfg *vc, uint32_t size, struct result *res)
{
	char name[64], dev[80];
	struct azblob_request_sync_abi a;
	char req[128], *resp = malloc(4096);
	uint8_t *data = size ? malloc(size) : NULL;
	int fd = -1, rc = -1, status;
	pid_t pid;
	uint64_t n = 0, t0, t_end, c0, d0;

	if (access("/dev/cuse", R_OK | W_OK)) {
		fprintf(stderr,
			"azblob-bench: --via cuse needs /dev/cuse (modprobe cuse) and root: "
			"%s\n",
			strerror(errno));
		return -1;
	}
	snprintf(name, sizeof(name), "azblob_bench_%d", (int)getpid());
	snprintf(dev, sizeof(dev), "/dev/%s", name);
	pid = fork();
	if (pid == 0) {
		execl(vc->cuse_bin, vc->cuse_bin, "--sim-root", vc->sim_root, "--arenas", "1",
		      "--name", name, (char *)NULL);
		fprintf(stderr, "azblob-bench: cannot run %s: %s\n", vc->cuse_bin, strerror(errno));
		_exit(127);
	}
	for (int i = 0; i < 3000 && fd < 0; i++) {
		fd = open(dev, O_RDWR);
		if (fd < 0) {
			if (waitpid(pid, &status, WNOHANG) == pid) {
				fprintf(stderr, "azblob-bench: azblob-cuse exited (status %d)\n",
					status);
				pid = 0;
				goto out;
			}
			usleep(10000);
		}
	}
	if (fd < 0) {
		fprintf(stderr, "azblob-bench: %s did not appear\n", dev);
		goto out;
	}
	snprintf(req, sizeof(req), "%s",
		 size ? "POST /$sim/echo HTTP/1.1\r\n\r\n" : "GET /$sim/noop HTTP/1.1\r\n\r\n");
	if (data)
		memset(data, 0x5a, size);
	t0 = mono_ns();
	t_end = t0 + (uint64_t)(vc->warmup * 1e9);
	c0 = d0 = 0;
	for (bool measuring = false;;) {
		uint64_t s = mono_ns(), e;

		if (!measuring && s >= t_end) {
			measuring = true;
			t0 = s;
			t_end = s + (uint64_t)(vc->duration * 1e9);
			c0 = self_cpu_ns();
			d0 = proc_cpu_ns(pid);
			n = 0;
		} else if (measuring && (vc->requests > 0 ? (long)n >= vc->requests : s >= t_end)) {
			break;
		}
		memset(&a, 0, sizeof(a));
		a.timeout = 30000;
		a.request_len = (uint32_t)strlen(req);
		a.request_buffer = (uintptr_t)req;
		a.response_len = 4096;
		a.response_buffer = (uintptr_t)resp;
		a.data_len = a.data_valid = size;
		a.data_buffer = (uintptr_t)data;
		if (ioctl(fd, REQ_NR, &a) || a.response.status) {
			fprintf(stderr, "azblob-bench: ioctl: %s, status %u\n", strerror(errno),
				a.response.status);
			goto out;
		}
		e = mono_ns();
		if (measuring) {
			hist_add(&res->h, e - s);
			n++;
		}
	}
	double secs = (double)(mono_ns() - t0) / 1e9;

	res->requests = n;
	res->rps = (double)n / secs;
	res->bps = res->rps * size;
	res->cpu_ns = (double)(self_cpu_ns() - c0 + proc_cpu_ns(pid) - d0) / (double)n;
	res->syscalls_per_req = 1; /* the ioctl (the daemon's are its own) */
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	if (pid > 0) {
		kill(pid, SIGTERM);
		waitpid(pid, &status, 0);
	}
	free(resp);
	free(data);
	return rc;
}
