/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Which memory the module pins long-term: anonymous (private, or private
 * copies of a file), shmem (tmpfs, memfd, MAP_SHARED|MAP_ANONYMOUS) and
 * hugetlbfs. A shared mapping of another file system's page cache is
 * refused with EOPNOTSUPP: before 6.5 the kernel itself lets FOLL_LONGTERM
 * pin it, and host DMA into such pages bypasses the file system's
 * writeback. Other file systems here: ramfs (page cache, not shmem) and
 * ext4 on a loop device (init.sh mounts it at /mnt/ext4).
 */
#define _GNU_SOURCE /* memfd_create */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "guest.h"

#define LEN	      (16 * PAGE)
#define EXT4_MAGIC    0xEF53
#define RAMFS_MAGIC   0x858458f6
#define TMPFS_MAGIC   0x01021994
#define HUGETLB_MAGIC 0x958458f6

/* Mount fstype at dir (made if missing) unless a file system of magic is there. */
static bool mount_at(const char *fstype, const char *dir, long magic, const char *opts)
{
	struct statfs sf;

	mkdir(dir, 0755);
	if (statfs(dir, &sf) == 0 && sf.f_type == magic)
		return true;
	if (mount(fstype, dir, fstype, 0, opts) != 0) {
		note("mount -t %s %s: %s", fstype, dir, strerror(errno));
		return false;
	}
	return statfs(dir, &sf) == 0 && sf.f_type == magic;
}

/* A file of len bytes in dir, mapped (at addr) with flags, written; NULL on failure. */
static void *map_file_at(void *addr, const char *dir, size_t len, int flags)
{
	char path[128];
	void *p;
	int fd;

	snprintf(path, sizeof(path), "%s/kstub-filemap", dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || ftruncate(fd, (off_t)len) != 0) {
		note("%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	p = mmap(addr, len, PROT_READ | PROT_WRITE, flags, fd, 0);
	close(fd);
	unlink(path); /* the memory (a hugepage) goes with the last mapping */
	if (p == MAP_FAILED)
		return NULL;
	memset(p, 0x5a, len);
	return p;
}

static void *map_file(const char *dir, size_t len, int flags)
{
	return map_file_at(NULL, dir, len, flags);
}

static void *map_memfd(size_t len, unsigned flags)
{
	int fd = memfd_create("kstub-filemap", MFD_CLOEXEC | flags);
	void *p = MAP_FAILED;

	if (fd >= 0 && ftruncate(fd, (off_t)len) == 0)
		p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (fd >= 0)
		close(fd);
	if (p == MAP_FAILED)
		return NULL;
	memset(p, 0x5a, len);
	return p;
}

/* Register p (2 MiB form for hugetlb); want 0 (pinned) or -errno. No pin may stay. */
static void expect_pin(const char *what, void *p, size_t len, uint32_t flags, int want)
{
	long pins0 = pins_outstanding();
	int fd = kopen(), err;
	uint32_t id = 0;

	if (!check(p != NULL, "filemap: %s: mapped", what))
		return;
	err = kreg(fd, p, len, flags, NULL, 0, &id, NULL);
	check(err == want, "filemap: %s: %s (got %s)", what, want ? strerror(-want) : "pinned",
	      err ? strerror(-err) : "pinned");
	if (!err)
		kunreg(fd, id);
	close(fd);
	check(pins_outstanding() == pins0, "filemap: %s: no pin left", what);
	munmap(p, len);
}

/* One range over two mappings of kinds the module pins (anonymous, then a
 * MAP_SHARED tmpfs file right after it): one registration, every pfn
 * pagemap's, nothing left pinned after. */
static void two_kinds(void)
{
	static uint64_t pfns[2 * LEN / PAGE];
	long pins0 = pins_outstanding();
	uint64_t npfn = 0;
	uint32_t id = 0;
	int fd, err;
	char *p;

	p = mmap(NULL, 2 * LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!check(p != MAP_FAILED, "filemap: two kinds: mapped"))
		return;
	memset(p, 1, LEN);
	munmap(p + LEN, LEN);
	if (!check(map_file_at(p + LEN, "/mnt/kstub-tmpfs", LEN,
			       MAP_SHARED | MAP_FIXED_NOREPLACE) == p + LEN,
		   "filemap: two kinds: the tmpfs file right after the anonymous pages")) {
		munmap(p, LEN);
		return;
	}
	fd = kopen();
	err = kreg(fd, p, 2 * LEN, 0, pfns, 2 * LEN / PAGE, &id, &npfn);
	check(err == 0 && npfn == 2 * LEN / PAGE,
	      "filemap: anonymous then MAP_SHARED tmpfs: pinned as one range (%s, %llu pfns)",
	      err ? strerror(-err) : "ok", (unsigned long long)npfn);
	if (!err) {
		check(pfns_match(p, pfns, 2 * LEN / PAGE),
		      "filemap: two kinds: every pfn is pagemap's");
		kunreg(fd, id);
	}
	close(fd);
	check(pins_outstanding() == pins0, "filemap: two kinds: no pin left");
	munmap(p, 2 * LEN);
}

void test_filemap(void)
{
	struct uvmbus_kstub *k = NULL;
	struct statfs sf;
	uint32_t id;
	char *p;
	int err;

	expect_pin("private anonymous", map_anon(LEN), LEN, 0, 0);
	expect_pin("MAP_SHARED|MAP_ANONYMOUS (shmem)",
		   mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0), LEN,
		   0, 0);
	expect_pin("memfd (shmem)", map_memfd(LEN, 0), LEN, 0, 0);
	expect_pin("hugetlb memfd", map_memfd(HUGE, MFD_HUGETLB), HUGE, UVMBUS_KSTUB_REG_PFN_2M, 0);
	if (check(mount_at("tmpfs", "/mnt/kstub-tmpfs", TMPFS_MAGIC, NULL),
		  "filemap: tmpfs mounted")) {
		expect_pin("MAP_SHARED tmpfs file", map_file("/mnt/kstub-tmpfs", LEN, MAP_SHARED),
			   LEN, 0, 0);
		two_kinds();
	}
	if (check(mount_at("hugetlbfs", "/mnt/kstub-hugetlbfs", HUGETLB_MAGIC, "pagesize=2M"),
		  "filemap: hugetlbfs mounted"))
		expect_pin("MAP_SHARED hugetlbfs file",
			   map_file("/mnt/kstub-hugetlbfs", HUGE, MAP_SHARED), HUGE,
			   UVMBUS_KSTUB_REG_PFN_2M, 0);
	if (check(mount_at("ramfs", "/mnt/kstub-ramfs", RAMFS_MAGIC, NULL),
		  "filemap: ramfs mounted")) {
		expect_pin("MAP_SHARED ramfs file", map_file("/mnt/kstub-ramfs", LEN, MAP_SHARED),
			   LEN, 0, -EOPNOTSUPP);
		/* FOLL_WRITE copies a private file mapping's pages: anonymous. */
		expect_pin("MAP_PRIVATE ramfs file (private copies)",
			   map_file("/mnt/kstub-ramfs", LEN, MAP_PRIVATE), LEN, 0, 0);
		/* A range that starts anonymous and ends in the file: nothing stays. */
		p = mmap(NULL, 2 * LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p != MAP_FAILED) {
			memset(p, 1, LEN);
			munmap(p + LEN, LEN);
			if (map_file_at(p + LEN, "/mnt/kstub-ramfs", LEN,
					MAP_SHARED | MAP_FIXED_NOREPLACE) != p + LEN)
				note("could not place the ramfs mapping after the anonymous one");
			expect_pin("anonymous then MAP_SHARED ramfs", p, 2 * LEN, 0, -EOPNOTSUPP);
		}
		clear_log();
		p = map_file("/mnt/kstub-ramfs", LEN, MAP_SHARED);
		err = p && uvmbus_kstub_open(&k, NULL, &capture_log) == 0
			  ? uvmbus_kstub_register(k, p, LEN, &id, NULL, 0, NULL)
			  : -1;
		check(err == -EOPNOTSUPP &&
			  strstr(last_log(), "only anonymous, shmem/memfd and hugetlbfs memory"),
		      "filemap: library explains EOPNOTSUPP: \"%s\"", last_log());
		uvmbus_kstub_close(k);
		if (p)
			munmap(p, LEN);
	}
	if (check(statfs("/mnt/ext4", &sf) == 0 && sf.f_type == EXT4_MAGIC,
		  "filemap: ext4 mounted at /mnt/ext4 (init.sh)")) {
		expect_pin("MAP_SHARED ext4 file", map_file("/mnt/ext4", LEN, MAP_SHARED), LEN, 0,
			   -EOPNOTSUPP);
		expect_pin("MAP_PRIVATE ext4 file (private copies)",
			   map_file("/mnt/ext4", LEN, MAP_PRIVATE), LEN, 0, 0);
	}
}
