/* The dir backend: every memory backend test (test_sim_blob_ops.c) on a
 * directory, then what only the dir backend has: the files under PATH are
 * exactly the committed blobs, a restart sees them with their ETags and
 * properties, names cannot escape, a failed write fails the request and
 * leaves nothing behind, the memory cap at load. */
#define BLOB_OPS_DIR 1
#include "test_sim_blob_ops.c"

#include <dirent.h>
#include <sys/stat.h>

/* The names under dir/sub (the '.'-names too when dots), sorted, joined by
 * spaces. */
static const char *dir_names(const char *sub, bool dots)
{
	static char out[4096];
	char path[256], *v[64];
	struct dirent *e;
	size_t n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "%s/%s", dir, sub);
	out[0] = 0;
	d = opendir(path);
	if (!d)
		return "(none)";
	while ((e = readdir(d)) && n < 64)
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
		    (dots || e->d_name[0] != '.'))
			v[n++] = strdup(e->d_name);
	closedir(d);
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			if (strcmp(v[j], v[i]) < 0) {
				char *x = v[i];

				v[i] = v[j];
				v[j] = x;
			}
	for (size_t i = 0; i < n; i++) {
		snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s%s", i ? " " : "", v[i]);
		free(v[i]);
	}
	return out;
}

static long long file_size(const char *rel)
{
	char path[512];
	struct stat s;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	return stat(path, &s) ? -1 : (long long)s.st_size;
}

static void restart(void)
{
	be->close(st);
	cr_assert_eq(be->open(&st, open_arg(NULL), NULL), 0);
}

/* Three blocks of 300000 bytes, committed 2, 0, 1 as box/NAME. */
static void blocked_put(const char *name, uint8_t *all)
{
	static uint8_t blk[300000];
	char xml[512];

	for (int b = 0; b < 3; b++) {
		for (uint32_t i = 0; i < sizeof(blk); i++)
			blk[i] = (uint8_t)(b * 37 + i * 7);
		cr_assert_eq(put(blk, sizeof(blk), "PUT /box/%s?comp=block&blockid=%s HTTP/1.1\r\n",
				 name, id(b)),
			     201, "%s", R);
		memcpy(all + (size_t)((b + 1) % 3) * sizeof(blk), blk, sizeof(blk));
	}
	snprintf(xml, sizeof(xml),
		 "<BlockList><Latest>%s</Latest><Latest>%s</Latest><Latest>%s</Latest></BlockList>",
		 id(2), id(0), id(1));
	cr_assert_eq(
	    put(xml, (uint32_t)strlen(xml), "PUT /box/%s?comp=blocklist HTTP/1.1\r\n", name), 201,
	    "%s", R);
}

Test(blob_ops, dir_files_are_the_blobs_and_survive_a_restart)
{
	static uint8_t all[900000], back[900000];
	char etag[512], path[256]; /* hdr() returns at most 511 bytes */
	FILE *f;

	cr_assert_eq(req("PUT /box?restype=container HTTP/1.1\r\n"), 201);
	blocked_put("big", all);
	cr_expect_eq(put("hello", 5,
			 "PUT /box/a/b HTTP/1.1\r\nx-ms-blob-type: BlockBlob\r\nContent-Type: "
			 "text/plain\r\n"),
		     201);
	snprintf(etag, sizeof(etag), "%s", hdr("ETag"));
	cr_expect_eq(put("zz", 2, "PUT /box/pending?comp=block&blockid=%s HTTP/1.1\r\n", id(5)),
		     201);

	/* The files are exactly the committed blobs, whole. */
	cr_expect_str_eq(dir_names("", false), "box");
	cr_expect_str_eq(dir_names("box", false), "a%2Fb big");
	cr_expect_eq(file_size("box/big"), 900000);
	cr_expect_eq(file_size("box/a%2Fb"), 5);
	snprintf(path, sizeof(path), "%s/box/big", dir);
	f = fopen(path, "rb");
	cr_assert_not_null(f);
	cr_expect_eq(fread(back, 1, sizeof(back), f), sizeof(back));
	fclose(f);
	cr_expect_arr_eq(back, all, sizeof(all));
	cr_expect_str_eq(dir_names("box", true), ".props a%2Fb big", "no temporary file left");

	/* Ranged Gets across block boundaries. */
	cr_expect_eq(
	    get_into(back, 100, "GET /box/big HTTP/1.1\r\nx-ms-range: bytes=299950-300049\r\n"),
	    206);
	cr_expect_arr_eq(back, all + 299950, 100);

	restart();
	cr_expect_eq(req("HEAD /box/a/b HTTP/1.1\r\n"), 200);
	cr_expect_str_eq(hdr("ETag"), etag, "the ETag kept across a restart");
	cr_expect_str_eq(hdr("Content-Length"), "5");
	cr_expect_str_eq(hdr("Content-Type"), "text/plain");
	cr_expect_str_eq(hdr("Content-MD5"), "XUFAKrxLKna5cZ2REBfFkg==");
	cr_expect_eq(req("HEAD /box/big HTTP/1.1\r\n"), 200);
	cr_expect_str_eq(hdr("Content-Length"), "900000");
	memset(back, 0, sizeof(back));
	cr_expect_eq(get_into(back, sizeof(back), "GET /box/big HTTP/1.1\r\n"), 200);
	cr_expect_eq(D, 900000u);
	cr_expect_arr_eq(back, all, sizeof(all));
	cr_expect_eq(req("GET /box?restype=container&comp=list HTTP/1.1\r\n"), 200);
	cr_expect(strstr((char *)out, "<Name>a/b</Name>") &&
		      strstr((char *)out, "<Name>big</Name>"),
		  "%s", out);
	cr_expect(!strstr((char *)out, "pending"), "uncommitted blocks: memory only");
	cr_expect_eq(req("GET /box/pending HTTP/1.1\r\n"), 404);

	/* A write after the restart: a newer ETag. */
	cr_expect_eq(put("hello!", 6, "PUT /box/a/b HTTP/1.1\r\n"), 201);
	cr_expect(strcmp(hdr("ETag"), etag) > 0, "%s after %s", hdr("ETag"), etag);

	/* A sidecar that does not match (the file changed by hand): the ETag
	 * from the file's mtime, no MD5. */
	snprintf(path, sizeof(path), "%s/box/big", dir);
	f = fopen(path, "ab");
	cr_assert_not_null(f);
	fputc('x', f);
	fclose(f);
	restart();
	cr_expect_eq(req("HEAD /box/big HTTP/1.1\r\n"), 200);
	cr_expect_str_eq(hdr("Content-Length"), "900001");
	cr_expect(etag_ok(hdr("ETag")), "%s", R);

	/* Delete: the file goes; the container: the directory goes. */
	cr_expect_eq(req("DELETE /box/big HTTP/1.1\r\n"), 202);
	cr_expect_str_eq(dir_names("box", false), "a%2Fb");
	cr_expect_str_eq(dir_names("box/.props", true), "a%2Fb");
	cr_expect_eq(req("DELETE /box?restype=container HTTP/1.1\r\n"), 202);
	cr_expect_str_eq(dir_names("", true), "");
	restart();
	cr_expect_eq(req("HEAD /box?restype=container HTTP/1.1\r\n"), 404);
}

Test(blob_ops, dir_names_cannot_escape)
{
	char longname[300];

	cr_expect_eq(req("PUT /..?restype=container HTTP/1.1\r\n"), 400);
	cr_expect_eq(req("PUT /...?restype=container HTTP/1.1\r\n"), 400);
	cr_expect(err_is(400, "InvalidResourceName"));
	cr_assert_eq(req("PUT /box?restype=container HTTP/1.1\r\n"), 201);
	cr_expect_eq(put("e", 1, "PUT /box/../../escape HTTP/1.1\r\n"), 201, "%s", R);
	cr_expect_eq(put("d", 1, "PUT /box/.. HTTP/1.1\r\n"), 201, "%s", R);
	cr_expect_eq(put("p", 1, "PUT /box/100%%25 HTTP/1.1\r\n"), 201, "%s", R);
	cr_expect_str_eq(dir_names("", true), "box");
	cr_expect_str_eq(dir_names("box", false), "%2E. %2E.%2F..%2Fescape 100%25");
	/* A name longer than a file name may be: refused, never cut. */
	memset(longname, 'n', 260);
	longname[260] = 0;
	cr_expect_eq(put("x", 1, "PUT /box/%s HTTP/1.1\r\n", longname), 400);
	cr_expect(err_is(400, "InvalidResourceName"), "%s", R);
	restart();
	cr_expect_eq(req("GET /box?restype=container&comp=list HTTP/1.1\r\n"), 200);
	cr_expect(strstr((char *)out, "<Name>../../escape</Name>") &&
		      strstr((char *)out, "<Name>..</Name>") &&
		      strstr((char *)out, "<Name>100%</Name>"),
		  "%s", out);
}

Test(blob_ops, dir_failed_write_fails_the_request)
{
	char path[256], xml[256];

	cr_assert_eq(req("PUT /box?restype=container HTTP/1.1\r\n"), 201);
	/* A directory where the blob's file would go: Put Blob fails. */
	snprintf(path, sizeof(path), "%s/box/victim", dir);
	cr_assert_eq(mkdir(path, 0755), 0);
	cr_expect_eq(put("data", 4, "PUT /box/victim HTTP/1.1\r\n"), 500);
	cr_expect(err_is(500, "InternalError"), "%s", R);
	cr_expect_eq(req("GET /box/victim HTTP/1.1\r\n"), 404, "not claimed in memory");
	/* And Put Block List: the blocks stay uncommitted. */
	cr_expect_eq(put("AAAA", 4, "PUT /box/victim?comp=block&blockid=%s HTTP/1.1\r\n", id(1)),
		     201);
	snprintf(xml, sizeof(xml), "<BlockList><Latest>%s</Latest></BlockList>", id(1));
	cr_expect_eq(put(xml, (uint32_t)strlen(xml), "PUT /box/victim?comp=blocklist HTTP/1.1\r\n"),
		     500);
	cr_expect(err_is(500, "InternalError"), "%s", R);
	cr_expect_eq(req("GET /box/victim HTTP/1.1\r\n"), 404);
	cr_expect_str_eq(dir_names("box", true), ".props victim", "no partial file");
	cr_expect_str_eq(dir_names("box/.props", true), "", "no partial sidecar");
	cr_assert_eq(rmdir(path), 0);
	cr_expect_eq(put(xml, (uint32_t)strlen(xml), "PUT /box/victim?comp=blocklist HTTP/1.1\r\n"),
		     201, "the blocks were kept: %s", R);
	cr_expect_eq(file_size("box/victim"), 4);

	/* An existing blob whose rewrite fails keeps its content and ETag. */
	cr_assert_eq(put("old", 3, "PUT /box/keep HTTP/1.1\r\n"), 201);
	char etag[512];

	snprintf(etag, sizeof(etag), "%s", hdr("ETag"));
	snprintf(path, sizeof(path), "%s/box/.props/keep", dir);
	cr_assert_eq(unlink(path), 0);
	cr_assert_eq(mkdir(path, 0755), 0);
	cr_expect_eq(put("newer", 5, "PUT /box/keep HTTP/1.1\r\n"), 500);
	cr_expect_eq(req("GET /box/keep HTTP/1.1\r\n"), 200);
	cr_expect_eq(D, 3u);
	cr_expect(!memcmp(out, "old", 3));
	cr_expect_str_eq(hdr("ETag"), etag);
	cr_expect_eq(file_size("box/keep"), 3);
	cr_expect_str_eq(dir_names("box", true), ".props keep victim");

	/* A file where a container's directory would go. */
	snprintf(path, sizeof(path), "%s/newc", dir);
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f);
	fclose(f);
	cr_expect_eq(req("PUT /newc?restype=container HTTP/1.1\r\n"), 500);
	cr_expect_eq(req("HEAD /newc?restype=container HTTP/1.1\r\n"), 404);
}

Test(blob_ops, dir_load_respects_the_cap)
{
	static uint8_t big[600000];
	void *s2;

	cr_assert_eq(req("PUT /box?restype=container HTTP/1.1\r\n"), 201);
	cr_assert_eq(put(big, sizeof(big), "PUT /box/a HTTP/1.1\r\n"), 201);
	be->close(st);
	cr_expect_eq(be->open(&s2, open_arg("max_bytes=100000"), NULL), -ENOSPC);
	cr_assert_eq(be->open(&st, open_arg("max_bytes=1000000"), NULL), 0);
	cr_expect_eq(req("HEAD /box/a HTTP/1.1\r\n"), 200);
	/* Files put there by hand: "x%2Fy" is blob "x/y"; others ignored. */
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/box/x%%2Fy", dir);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs("hand", f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/box/bad%%zz", dir);
	fclose(fopen(path, "w"));
	restart();
	cr_expect_eq(req("GET /box/x/y HTTP/1.1\r\n"), 200);
	cr_expect_eq(D, 4u);
	cr_expect(etag_ok(hdr("ETag")));
	cr_expect_eq(req("GET /box?restype=container&comp=list HTTP/1.1\r\n"), 200);
	cr_expect(!strstr((char *)out, "bad"), "%s", out);
}
