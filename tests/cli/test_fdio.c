// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * azblob_cli_fdio: fdio_write_all and fdio_read_all (tools/azcli/fdio.h),
 * with write(2) and pwrite(2) wrapped so that a test decides what the next
 * call returns: a short count, EINTR, or 0 (a write making no progress,
 * which must be reported, not retried forever).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fdio.h"

ssize_t __real_write(int fd, const void *buf, size_t n);
ssize_t __real_pwrite(int fd, const void *buf, size_t n, off_t off);

/* What the next calls do: 'n' normal, 's' short (at most 3 bytes), 'i'
 * EINTR, 'z' return 0. Consumed one per call; normal past the end. */
static const char *script = "";
static int calls;

static ssize_t scripted(size_t *n)
{
	char c = script[0] ? *script++ : 'n';

	calls++;
	if (c == 'i') {
		errno = EINTR;
		return -1;
	}
	if (c == 'z')
		return 0;
	if (c == 's' && *n > 3)
		*n = 3;
	return 1;
}

ssize_t __wrap_write(int fd, const void *buf, size_t n)
{
	ssize_t r = scripted(&n);

	return r <= 0 ? r : __real_write(fd, buf, n);
}

ssize_t __wrap_pwrite(int fd, const void *buf, size_t n, off_t off)
{
	ssize_t r = scripted(&n);

	return r <= 0 ? r : __real_pwrite(fd, buf, n, off);
}

static int tmpfile_fd(void)
{
	char path[] = "/tmp/fdio-XXXXXX";
	int fd = mkstemp(path);

	cr_assert_geq(fd, 0);
	unlink(path);
	return fd;
}

static void setup(void)
{
	script = "";
	calls = 0;
}

TestSuite(fdio, .init = setup);

Test(fdio, short_and_interrupted_writes_complete)
{
	char in[32], out[32];
	int fd = tmpfile_fd();

	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (char)('a' + i % 26);
	script = "sisis";
	cr_assert_eq(fdio_write_all(fd, in, sizeof(in), 5), 0);
	cr_assert_eq(fdio_read_all(fd, out, sizeof(out), 5), 0);
	cr_assert_arr_eq(in, out, sizeof(in));
	close(fd);
}

Test(fdio, sequential_writes_go_through_write)
{
	char out[8] = {0};
	int p[2];

	cr_assert_eq(pipe(p), 0);
	script = "si";
	cr_assert_eq(fdio_write_all(p[1], "abcdefg", 7, FDIO_SEQ), 0);
	cr_assert_eq(read(p[0], out, sizeof(out)), 7);
	cr_assert_str_eq(out, "abcdefg");
	close(p[0]);
	close(p[1]);
}

Test(fdio, a_write_without_progress_fails_instead_of_looping)
{
	int fd = tmpfile_fd();

	script = "szzzz";
	cr_assert_eq(fdio_write_all(fd, "0123456789", 10, 0), -EIO);
	cr_assert_eq(calls, 2, "retried a write that returned 0: %d calls", calls);
	script = "z";
	cr_assert_eq(fdio_write_all(fd, "0123456789", 10, FDIO_SEQ), -EIO);
	close(fd);
}

Test(fdio, errors_and_the_end_of_a_file)
{
	char buf[16];
	int fd = tmpfile_fd();
	int full = open("/dev/full", O_WRONLY);

	cr_assert_eq(fdio_write_all(fd, "abc", 3, 0), 0);
	cr_assert_eq(fdio_read_all(fd, buf, 3, 0), 0);
	cr_assert_eq(fdio_read_all(fd, buf, 4, 0), -ENODATA, "a shrunk file is reported");
	cr_assert_eq(fdio_read_all(fd, buf, 1, (uint64_t)INT64_MAX), -EFBIG);
	cr_assert_eq(fdio_write_all(fd, "a", 1, (uint64_t)INT64_MAX), -EFBIG);
	cr_assert_eq(fdio_write_all(-1, "a", 1, 0), -EBADF);
	cr_assert_eq(fdio_read_all(-1, buf, 1, 0), -EBADF);
	cr_assert_geq(full, 0, "/dev/full: %s", strerror(errno));
	cr_assert_eq(fdio_write_all(full, "a", 1, FDIO_SEQ), -ENOSPC);
	close(full);
	cr_assert_eq(fdio_write_all(fd, "", 0, 0), 0);
	close(fd);
}
