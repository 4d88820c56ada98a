/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Host-side checks of the kstub backend that need no module: the ABI
 * layout, argument checks, and the operator messages for a missing module,
 * a node without permission and a file that is not the device.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <uapi/uvmbus_kstub.h>
#include <uvmbus/kstub.h>

/* Field offsets are ABI: any change here needs a new ABI version. */
_Static_assert(offsetof(struct uvmbus_kstub_register, addr) == 8, "addr");
_Static_assert(offsetof(struct uvmbus_kstub_register, pfns) == 24, "pfns");
_Static_assert(offsetof(struct uvmbus_kstub_register, npfn) == 40, "npfn");
_Static_assert(offsetof(struct uvmbus_kstub_register, region_id) == 48, "region_id");
_Static_assert(offsetof(struct uvmbus_kstub_query, regions) == 8, "regions");
_Static_assert(offsetof(struct uvmbus_kstub_query, quarantined_pages) == 64, "quarantined");
_Static_assert(UVMBUS_KSTUB_DEFAULT_QUARANTINE_MS == 330000, "quarantine default");

static int failed;
static char last[1024];

static void capture(void *arg, enum uvmbus_log_level level, const char *msg)
{
	(void)arg;
	(void)level;
	snprintf(last, sizeof(last), "%s", msg);
}

static const struct uvmbus_log logcap = {.fn = capture, .max_level = UVMBUS_LOG_DEBUG};

static void check(int ok, const char *what)
{
	printf("%s: %s%s%s\n", ok ? "PASS" : "FAIL", what, last[0] ? " -- " : "", last);
	failed += !ok;
	last[0] = 0;
}

/* EACCES needs a non-root opener: as root, check from a uid-65534 child. */
static void permission_message(const char *dir)
{
	char path[512];
	const char *want = geteuid() == 0 ? "mode 0600" : "mode 0000";
	struct uvmbus_kstub *k = NULL;
	int fd, err, st;
	pid_t pid;

	snprintf(path, sizeof(path), "%s/node", dir);
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	close(fd);
	chmod(dir, 0755);
	chmod(path, geteuid() == 0 ? 0600 : 0);
	pid = fork();
	if (pid == 0) {
		if (geteuid() == 0 && (setgid(65534) || setuid(65534)))
			_exit(2);
		err = uvmbus_kstub_open(&k, path, &logcap);
		_exit(err == -EACCES && strstr(last, "permission denied") && strstr(last, want)
			  ? 0
			  : 1);
	}
	check(pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	      "open without permission: EACCES naming the node's mode and group");
	unlink(path);
}

int main(void)
{
	char dir[] = "/tmp/kstub-test-XXXXXX";
	struct uvmbus_kstub *k = (struct uvmbus_kstub *)1;
	struct uvmbus_kstub_usage u;
	uint32_t id;
	int err;

	err = uvmbus_kstub_open(&k, "/nonexistent/uvmbus_kstub", &logcap);
	check(err == -ENOENT && k == NULL && strstr(last, "modprobe uvmbus_kstub") &&
		  strstr(last, "scripts/bind_uio.sh kstub"),
	      "missing node: ENOENT and how to load the module");
	err = uvmbus_kstub_open(&k, "/dev/null", &logcap);
	check(err == -ENOTTY && strstr(last, "not a uvmbus_kstub device"),
	      "/dev/null: ENOTTY, not a uvmbus_kstub device");
	err = uvmbus_kstub_open(&k, "/nonexistent", NULL);
	check(err == -ENOENT, "no log callback: still the errno");
	{
		const struct uvmbus_log zero_level = {.fn = capture}; /* max_level 0 = INFO */

		err = uvmbus_kstub_open(&k, "/nonexistent", &zero_level);
		check(err == -ENOENT && strstr(last, "not loaded"),
		      "max_level 0 still logs errors");
	}
	check(uvmbus_kstub_open(NULL, NULL, &logcap) == -EINVAL, "open(NULL): EINVAL");
	check(uvmbus_kstub_register(NULL, dir, 1, &id, NULL, 0, NULL) == -EINVAL,
	      "register(NULL handle): EINVAL");
	check(uvmbus_kstub_unregister(NULL, 1) == -EINVAL, "unregister(NULL handle): EINVAL");
	check(uvmbus_kstub_query(NULL, &u) == -EINVAL, "query(NULL handle): EINVAL");
	uvmbus_kstub_close(NULL);

	check(uvmbus_kstub_pfn_count((void *)0x1000, 0) == 0 &&
		  uvmbus_kstub_pfn_count((void *)0x1000, 1) == 1 &&
		  uvmbus_kstub_pfn_count((void *)0x1fff, 2) == 2 &&
		  uvmbus_kstub_pfn_count((void *)0x1001, 0x2000) == 3 &&
		  uvmbus_kstub_pfn_count((void *)0x200000, 0x200000) == 512,
	      "pfn_count spans of 4 KiB pages");

	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	permission_message(dir);
	rmdir(dir);

	printf("kstub_userspace: %d failed\n", failed);
	return failed ? 1 : 0;
}
