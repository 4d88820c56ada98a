// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * qemu_exec_shim: lets an arm64 test running under qemu-aarch64 (user
 * emulation) execute another arm64 program. Linked into every test program
 * of an arm64 cross build (tests/CMakeLists.txt), ahead of libc, so that
 * its execve() is the one the test and its libraries call.
 *
 * Why: Criterion's test runner (BoxFort) runs every test in a worker it
 * starts with execve() of its own binary. Under qemu-user that execve goes
 * to the host kernel, which cannot run an aarch64 ELF unless a binfmt_misc
 * handler for it is registered (a machine-wide setting this project does
 * not make): the worker fails with ENOEXEC, exits 8, and the runner says
 * "Could not spawn test instance: Protocol error" and aborts.
 *
 * So: under the emulator (UVMBUS_QEMU set, cmake/aarch64-linux-gnu.cmake
 * passes it with -E), an execve() of an aarch64 ELF becomes an execve() of
 * the emulator itself with `-0 ARGV0`, the program and its arguments; the
 * library root goes on in QEMU_LD_PREFIX, which qemu reads from its
 * environment. Anything else (scripts, host programs) is executed as it is.
 * execv() (which glibc implements with its internal execve, past this
 * one) is redirected too: the broker tests start azblobd with it. The
 * environment goes on, so QEMU_PAGESIZE (qemu's -p) reaches the child:
 * under QEMU_PAGESIZE=65536 both ends run with 64 KiB pages.
 * glibc's own callers of its internal execve (system(), posix_spawn()) are
 * not redirected: they run host programs here.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int is_aarch64_elf(const char *path)
{
	Elf64_Ehdr h;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return 0;
	n = read(fd, &h, sizeof(h));
	close(fd);
	return n == (ssize_t)sizeof(h) && !memcmp(h.e_ident, ELFMAG, SELFMAG) &&
	       h.e_machine == EM_AARCH64;
}

int execve(const char *path, char *const argv[], char *const envp[])
{
	static int (*real)(const char *, char *const[], char *const[]);
	const char *qemu = getenv("UVMBUS_QEMU");
	size_t na = 0;

	if (!real)
		real =
		    (int (*)(const char *, char *const[], char *const[]))dlsym(RTLD_NEXT, "execve");
	if (!qemu || !is_aarch64_elf(path))
		return real(path, argv, envp);
	while (argv[na])
		na++;

	char **a = calloc(na + 5, sizeof(*a));
	size_t i = 0;

	if (!a) {
		errno = ENOMEM;
		return -1;
	}
	a[i++] = (char *)qemu;
	a[i++] = "-0";
	a[i++] = na ? argv[0] : (char *)path;
	a[i++] = (char *)path;
	for (size_t k = 1; k < na; k++)
		a[i++] = argv[k];
	real(qemu, a, envp);
	free(a);
	return -1;
}

int execv(const char *path, char *const argv[])
{
	return execve(path, argv, environ);
}
