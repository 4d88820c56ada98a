// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * broker_strict_dirs: the files azblobd creates, in directories a user
 * could tamper with (issue 22, items 3 and 4).
 * 1. A user (65534) owns the ready file's directory and plants a symlink
 *    at "<ready>.tmp" to a root-owned 0600 file: the file is untouched and
 *    the daemon refuses the directory, naming it, its owner and mode.
 * 2. A root-owned directory writable by others: refused (its mode named).
 * 3. A socket directory owned by a user: refused the same way.
 * 4. A good directory: the socket gets --socket-mode exactly (set without
 *    chmod on the path), the ready file appears.
 * Before issue 22, root truncated the victim to 0 bytes and started.
 */
#include <fcntl.h>

#include "harness.h"

#define SECRET "root's secret\n"

struct run {
	pid_t pid;
	int status; /* when it exited */
	bool ready;
	char err[4096];
};

/* azblobd with this socket and ready file; until ready or exit (5 s). */
static void run(const char *azblobd, const char *sim_root, const char *sock, const char *ready,
		const char *mode, struct run *r)
{
	char errpath[] = "/tmp/broker-strict-err-XXXXXX";
	int efd = mkstemp(errpath);

	BH_CHECK(efd >= 0, "mkstemp");
	memset(r, 0, sizeof(*r));
	r->pid = bh_fork();
	if (r->pid == 0) {
		dup2(efd, 2);
		execl(azblobd, azblobd, "--sim-root", sim_root, "--socket", sock, "--ready-file",
		      ready, "--socket-mode", mode, (char *)NULL);
		_exit(127);
	}
	close(efd);
	for (int i = 0; i < 500; i++) {
		if (access(ready, F_OK) == 0) {
			r->ready = true;
			break;
		}
		if (waitpid(r->pid, &r->status, WNOHANG) == r->pid) {
			r->pid = 0;
			break;
		}
		bh_sleep_ms(10);
	}
	if (r->pid > 0) {
		kill(r->pid, SIGTERM);
		waitpid(r->pid, &r->status, 0);
	}
	bh_read_file(errpath, r->err, sizeof(r->err));
	unlink(errpath);
	printf("azblobd --socket %s --ready-file %s: %s, exit %d, stderr:\n%s", sock, ready,
	       r->ready ? "got ready" : "never ready",
	       WIFEXITED(r->status) ? WEXITSTATUS(r->status) : -1, r->err);
}

static void make_dir(char *dir, uid_t owner, mode_t mode)
{
	BH_CHECK(mkdtemp(dir), "mkdtemp");
	BH_CHECK(chown(dir, owner, owner) == 0 && chmod(dir, mode) == 0, "chown %s", dir);
}

/* As uid 65534: a symlink at path to target. */
static void plant(const char *target, const char *path)
{
	pid_t p = bh_fork();
	int st;

	if (p == 0) {
		bh_become(65534, 65534);
		bh_exit(symlink(target, path) ? 1 : 0);
	}
	BH_CHECK(waitpid(p, &st, 0) == p && WIFEXITED(st) && !WEXITSTATUS(st), "plant %s", path);
}

static void expect_refused(const struct run *r, const char *dir, const char *why)
{
	BH_CHECK(!r->ready && WIFEXITED(r->status) && WEXITSTATUS(r->status) == 1,
		 "azblobd refuses %s", dir);
	BH_CHECK(strstr(r->err, dir) && strstr(r->err, why), "the message names %s and '%s'", dir,
		 why);
}

int main(int argc, char **argv)
{
	struct azblob_sim_opts so;
	struct azblob_sim *sim;
	char victim[] = "/tmp/broker-victim-XXXXXX", text[256];
	char user_dir[] = "/tmp/broker-user-XXXXXX", open_dir[] = "/tmp/broker-open-XXXXXX";
	char good_dir[] = "/tmp/broker-good-XXXXXX";
	char sock[160], ready[160], tmp[170];
	struct stat sb;
	struct run r;
	int fd;

	BH_CHECK(argc == 2, "usage: %s AZBLOBD", argv[0]);
	azblob_sim_opts_init(&so);
	so.ram_bytes = 320u << 20;
	so.no_hugetlb = true;
	BH_CHECK(!azblob_sim_create(&sim, &so) && !azblob_sim_start(sim), "simulator");
	fd = mkstemp(victim);
	BH_CHECK(fd >= 0 && write(fd, SECRET, strlen(SECRET)) == (ssize_t)strlen(SECRET) &&
		     fchmod(fd, 0600) == 0,
		 "victim");
	close(fd);
	make_dir(good_dir, 0, 0700);

	/* 1. the ready file in a user's directory, a symlink planted */
	make_dir(user_dir, 65534, 0755);
	snprintf(ready, sizeof(ready), "%s/ready", user_dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", ready);
	plant(victim, tmp);
	snprintf(sock, sizeof(sock), "%s/s1.sock", good_dir);
	run(argv[1], azblob_sim_root(sim), sock, ready, "0666", &r);
	BH_CHECK(stat(victim, &sb) == 0, "victim");
	bh_read_file(victim, text, sizeof(text));
	printf("victim after: %lld bytes, mode %o: \"%.*s\"\n", (long long)sb.st_size,
	       (unsigned)(sb.st_mode & 07777), (int)strcspn(text, "\n"), text);
	BH_CHECK(!strcmp(text, SECRET) && (sb.st_mode & 07777) == 0600, "the victim untouched");
	expect_refused(&r, user_dir, "owned by uid 65534");

	/* 2. a root-owned directory writable by all */
	make_dir(open_dir, 0, 0777);
	snprintf(ready, sizeof(ready), "%s/ready", open_dir);
	snprintf(sock, sizeof(sock), "%s/s2.sock", good_dir);
	run(argv[1], azblob_sim_root(sim), sock, ready, "0666", &r);
	expect_refused(&r, open_dir, "0777");

	/* 3. the socket in a user's directory */
	snprintf(sock, sizeof(sock), "%s/azblobd.sock", user_dir);
	snprintf(ready, sizeof(ready), "%s/ready3", good_dir);
	run(argv[1], azblob_sim_root(sim), sock, ready, "0666", &r);
	expect_refused(&r, user_dir, "owned by uid 65534");

	/* 4. good: the socket's mode exactly as asked, a stale ready.tmp
	 * symlink in a good directory replaced, not followed */
	snprintf(sock, sizeof(sock), "%s/azblobd.sock", good_dir);
	snprintf(ready, sizeof(ready), "%s/ready4", good_dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", ready);
	BH_CHECK(symlink(victim, tmp) == 0, "a stale symlink");
	pid_t p = bh_fork();

	if (p == 0) {
		execl(argv[1], argv[1], "--sim-root", azblob_sim_root(sim), "--socket", sock,
		      "--ready-file", ready, "--socket-mode", "0660", (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 500 && access(ready, F_OK); i++)
		bh_sleep_ms(10);
	BH_CHECK(lstat(sock, &sb) == 0 && S_ISSOCK(sb.st_mode), "the socket");
	printf("socket mode %o (asked 0660)\n", (unsigned)(sb.st_mode & 07777));
	BH_CHECK((sb.st_mode & 07777) == 0660, "the socket's mode");
	BH_CHECK(lstat(ready, &sb) == 0 && S_ISREG(sb.st_mode), "the ready file is a file");
	bh_read_file(victim, text, sizeof(text));
	BH_CHECK(!strcmp(text, SECRET), "the victim untouched");
	kill(p, SIGTERM);
	waitpid(p, &fd, 0);
	BH_CHECK(WIFEXITED(fd) && WEXITSTATUS(fd) == 0, "azblobd exit %#x", fd);

	unlink(victim);
	snprintf(text, sizeof(text), "rm -rf %s %s %s", user_dir, open_dir, good_dir);
	if (system(text)) {
	}
	azblob_sim_destroy(sim);
	printf("ok\n");
	return 0;
}
