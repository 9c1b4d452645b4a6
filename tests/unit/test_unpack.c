/*
 * test_unpack - plain, gzip and zip reports into XML: round trips, the size
 * cap, the ratio cap (bombs), truncated and odd archives.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "t.h"
#include "unpack.h"

/* gz - gzip-compress (p, n) into a new buffer. */
static unsigned char *gz(const void *p, size_t n, size_t *outlen)
{
	z_stream z;
	memset(&z, 0, sizeof(z));
	size_t cap = compressBound(n) + 64;
	unsigned char *out = malloc(cap);
	deflateInit2(&z, 9, Z_DEFLATED, 16 + 15, 8, Z_DEFAULT_STRATEGY);
	z.next_in = (unsigned char *)p;
	z.avail_in = (uInt)n;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	deflate(&z, Z_FINISH);
	*outlen = cap - z.avail_out;
	deflateEnd(&z);
	return out;
}

/* raw deflate (for zip members) */
static size_t rawdeflate(const void *p, size_t n, unsigned char *out, size_t cap)
{
	z_stream z;
	memset(&z, 0, sizeof(z));
	deflateInit2(&z, 9, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
	z.next_in = (unsigned char *)p;
	z.avail_in = (uInt)n;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	deflate(&z, Z_FINISH);
	size_t k = cap - z.avail_out;
	deflateEnd(&z);
	return k;
}

static void put16(unsigned char *p, unsigned v) { p[0] = v & 0xff; p[1] = v >> 8 & 0xff; }
static void put32(unsigned char *p, uint32_t v) { put16(p, v & 0xffff); put16(p + 2, v >> 16); }

/* zip - an archive of nmembers copies of one member (method 0 or 8). */
static unsigned char *zip(const char *data, size_t n, int method, int nmembers, size_t *outlen)
{
	size_t cap = 2 * n + 1024 * (size_t)nmembers + 1024;
	unsigned char *z = calloc(1, cap), *c = calloc(1, 1024 * (size_t)nmembers);
	unsigned char *comp = malloc(n + 1024);
	size_t clen = method == 8 ? rawdeflate(data, n, comp, n + 1024) : n;
	if (method == 0)
		memcpy(comp, data, n);
	size_t at = 0, cl = 0;
	for (int m = 0; m < nmembers; m++) {
		size_t lfh = at;
		put32(z + at, 0x04034b50); put16(z + at + 8, (unsigned)method);
		put32(z + at + 18, (uint32_t)clen); put32(z + at + 22, (uint32_t)n);
		put16(z + at + 26, 5);
		memcpy(z + at + 30, "r.xml", 5);
		at += 35;
		memcpy(z + at, comp, clen);
		at += clen;
		put32(c + cl, 0x02014b50); put16(c + cl + 10, (unsigned)method);
		put32(c + cl + 20, (uint32_t)clen); put32(c + cl + 24, (uint32_t)n);
		put16(c + cl + 28, 5); put32(c + cl + 42, (uint32_t)lfh);
		memcpy(c + cl + 46, "r.xml", 5);
		cl += 51;
	}
	size_t cd = at;
	memcpy(z + at, c, cl);
	at += cl;
	put32(z + at, 0x06054b50); put16(z + at + 8, (unsigned)nmembers);
	put16(z + at + 10, (unsigned)nmembers); put32(z + at + 12, (uint32_t)cl);
	put32(z + at + 16, (uint32_t)cd);
	at += 22;
	free(c);
	free(comp);
	*outlen = at;
	return z;
}

static const char xml[] = "<?xml version=\"1.0\"?><feedback><report_metadata/></feedback>";

static void expect(const unsigned char *p, size_t n, size_t cap, const char *want_err,
                   const char *want, const char *name)
{
	size_t len = 0;
	const char *err = NULL;
	char *out = unpack_report(p, n, cap, &len, &err);
	if (want_err) {
		T_OK(out == NULL, "%s: refused", name);
		T_STR(err, want_err, "%s: %s", name, want_err);
	} else {
		T_OK(out && len == strlen(want) && memcmp(out, want, len) == 0, "%s: content", name);
	}
	free(out);
}

int main(void)
{
	size_t n;
	unsigned char *p;
	expect((const unsigned char *)xml, strlen(xml), 1 << 20, NULL, xml, "plain");
	expect((const unsigned char *)xml, strlen(xml), 10, "feedback.unpack.too_large", NULL, "plain over cap");
	p = gz(xml, strlen(xml), &n);
	T_INT(unpack_kind_of(p, n), UNPACK_GZIP, "gzip magic");
	expect(p, n, 1 << 20, NULL, xml, "gzip");
	expect(p, n, 20, "feedback.unpack.too_large", NULL, "gzip over cap");
	expect(p, n - 12, 1 << 20, "feedback.unpack.corrupt", NULL, "gzip truncated");
	/* two concatenated members read as one stream */
	unsigned char *two = malloc(2 * n);
	memcpy(two, p, n);
	memcpy(two + n, p, n);
	size_t l2 = 0;
	const char *e2 = NULL;
	char *o2 = unpack_report(two, 2 * n, 1 << 20, &l2, &e2);
	T_INT(l2, 2 * strlen(xml), "gzip: two members");
	free(o2);
	free(two);
	free(p);
	/* a bomb: 64 MiB of zeros is about 64 KB compressed */
	size_t big = 64u << 20;
	char *zeros = calloc(1, big);
	p = gz(zeros, big, &n);
	free(zeros);
	expect(p, n, 256u << 20, "feedback.unpack.bomb", NULL, "gzip bomb under the size cap");
	expect(p, n, 1u << 20, "feedback.unpack.too_large", NULL, "gzip bomb over the size cap");
	free(p);
	p = zip(xml, strlen(xml), 8, 1, &n);
	T_INT(unpack_kind_of(p, n), UNPACK_ZIP, "zip magic");
	expect(p, n, 1 << 20, NULL, xml, "zip deflate");
	free(p);
	p = zip(xml, strlen(xml), 0, 1, &n);
	expect(p, n, 1 << 20, NULL, xml, "zip stored");
	expect(p, n, 10, "feedback.unpack.too_large", NULL, "zip stored over cap");
	free(p);
	p = zip(xml, strlen(xml), 8, 2, &n);
	expect(p, n, 1 << 20, "feedback.unpack.zip_members", NULL, "zip with two members");
	free(p);
	p = zip(xml, strlen(xml), 12, 1, &n);
	expect(p, n, 1 << 20, "feedback.unpack.zip_method", NULL, "zip bzip2 member");
	free(p);
	p = zip(xml, strlen(xml), 8, 1, &n);
	p[6] = 1;                       /* the local header says encrypted: the central one rules */
	put16(p + n - 22 - 51 + 8, 1);
	expect(p, n, 1 << 20, "feedback.unpack.zip_method", NULL, "zip encrypted");
	free(p);
	p = zip(xml, strlen(xml), 8, 1, &n);
	expect(p, n - 30, 1 << 20, "feedback.unpack.corrupt", NULL, "zip without its directory");
	put32(p + n - 22 - 51 + 42, 0xfffffff0u);
	expect(p, n, 1 << 20, "feedback.unpack.corrupt", NULL, "zip member offset out of range");
	free(p);
	zeros = calloc(1, big);
	p = zip(zeros, big, 8, 1, &n);
	free(zeros);
	expect(p, n, 256u << 20, "feedback.unpack.bomb", NULL, "zip bomb");
	free(p);
	return t_done();
}
