/*
 * unpack - plain, gzip and single-member zip reports into XML, with a size
 * cap and a ratio cap (see unpack.h).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "unpack.h"

#define ZIP_EOCD_SIG 0x06054b50u
#define ZIP_CDH_SIG  0x02014b50u
#define ZIP_LFH_SIG  0x04034b50u
#define ZIP_EOCD_LEN 22u
#define ZIP_CDH_LEN  46u
#define ZIP_LFH_LEN  30u
#define ZIP_COMMENT_MAX 65535u

static uint32_t le16(const unsigned char *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8; }
static uint32_t le32(const unsigned char *p) { return le16(p) | le16(p + 2) << 16; }

enum unpack_kind unpack_kind_of(const unsigned char *p, size_t len)
{
	if (len >= 2 && p[0] == 0x1f && p[1] == 0x8b)
		return UNPACK_GZIP;
	if (len >= 4 && le32(p) == ZIP_LFH_SIG)
		return UNPACK_ZIP;
	return UNPACK_PLAIN;
}

/* over_ratio - the output has outgrown the input by more than the ratio. */
static int over_ratio(size_t out, size_t in)
{
	return out > UNPACK_RATIO_FLOOR && out / UNPACK_RATIO_MAX > in;
}

/* grow - double the output buffer up to cap + 1 (one byte for the NUL). */
static int grow(char **buf, size_t *size, size_t cap)
{
	size_t n = *size * 2;
	if (n > cap + 1)
		n = cap + 1;
	if (n <= *size)
		return -1;
	char *b = realloc(*buf, n);
	if (b == NULL)
		return -1;
	*buf = b;
	*size = n;
	return 0;
}

/* inflate_capped - inflate in (windowBits as zlib's inflateInit2; gzip
 * members follow each other) into a new buffer of at most cap bytes. */
static char *inflate_capped(const unsigned char *in, size_t inlen, int wbits, size_t cap,
                            size_t *outlen, const char **error)
{
	z_stream z;
	memset(&z, 0, sizeof(z));
	size_t size = 4096 < cap + 1 ? 4096 : cap + 1;
	char *out = malloc(size);
	if (out == NULL || inflateInit2(&z, wbits) != Z_OK) {
		free(out);
		*error = "feedback.unpack.corrupt";
		return NULL;
	}
	z.next_in = (unsigned char *)in;
	z.avail_in = inlen > UINT32_MAX ? UINT32_MAX : (uInt)inlen;
	size_t have = 0;
	int rc = Z_OK;
	*error = NULL;
	for (;;) {
		if (have == size - 1 && grow(&out, &size, cap) < 0) {
			*error = have >= cap ? "feedback.unpack.too_large" : "feedback.unpack.corrupt";
			break;
		}
		z.next_out = (unsigned char *)out + have;
		z.avail_out = (uInt)(size - 1 - have);
		rc = inflate(&z, Z_NO_FLUSH);
		have = size - 1 - z.avail_out;
		if (over_ratio(have, inlen)) {
			*error = "feedback.unpack.bomb";
			break;
		}
		if (rc == Z_STREAM_END) {
			/* another gzip member may follow (concatenated .gz files) */
			if (wbits > 15 && z.avail_in >= 2 && z.next_in[0] == 0x1f && z.next_in[1] == 0x8b &&
			    inflateReset(&z) == Z_OK)
				continue;
			break;
		}
		if (rc != Z_OK && !(rc == Z_BUF_ERROR && z.avail_out == 0)) {
			*error = "feedback.unpack.corrupt";
			break;
		}
	}
	inflateEnd(&z);
	if (*error) {
		free(out);
		return NULL;
	}
	out[have] = '\0';
	*outlen = have;
	return out;
}

/* copy_capped - a stored (uncompressed) member or a plain report. */
static char *copy_capped(const unsigned char *p, size_t len, size_t cap, size_t *outlen,
                         const char **error)
{
	if (len > cap) {
		*error = "feedback.unpack.too_large";
		return NULL;
	}
	char *out = malloc(len + 1);
	if (out == NULL) {
		*error = "feedback.unpack.too_large";
		return NULL;
	}
	memcpy(out, p, len);
	out[len] = '\0';
	*outlen = len;
	return out;
}

/* zip_eocd - the end of central directory record: the last signature in
 * the final 22 + 65535 bytes. */
static const unsigned char *zip_eocd(const unsigned char *p, size_t len)
{
	if (len < ZIP_EOCD_LEN)
		return NULL;
	size_t lo = len - ZIP_EOCD_LEN > ZIP_COMMENT_MAX ? len - ZIP_EOCD_LEN - ZIP_COMMENT_MAX : 0;
	for (size_t i = len - ZIP_EOCD_LEN + 1; i-- > lo;)
		if (le32(p + i) == ZIP_EOCD_SIG)
			return p + i;
	return NULL;
}

struct zmember { uint32_t method, flags, csize, usize, lfh; };

/* zip_member - the one member of the archive, from its central directory. */
static const char *zip_member(const unsigned char *p, size_t len, struct zmember *m)
{
	const unsigned char *e = zip_eocd(p, len);
	if (e == NULL)
		return "feedback.unpack.corrupt";
	if (le16(e + 10) != 1 || le16(e + 8) != 1)
		return "feedback.unpack.zip_members";
	uint32_t cd = le32(e + 16);
	if (cd > len || len - cd < ZIP_CDH_LEN || le32(p + cd) != ZIP_CDH_SIG)
		return "feedback.unpack.corrupt";
	const unsigned char *c = p + cd;
	m->flags = le16(c + 8);
	m->method = le16(c + 10);
	m->csize = le32(c + 20);
	m->usize = le32(c + 24);
	m->lfh = le32(c + 42);
	if (m->flags & 1)                           /* encrypted */
		return "feedback.unpack.zip_method";
	if (m->method != 0 && m->method != 8)
		return "feedback.unpack.zip_method";
	if (m->csize == UINT32_MAX || m->usize == UINT32_MAX || m->lfh == UINT32_MAX)
		return "feedback.unpack.corrupt";       /* ZIP64: not sent by reporters */
	return NULL;
}

/* unzip - the single member, stored or deflated. */
static char *unzip(const unsigned char *p, size_t len, size_t cap, size_t *outlen,
                   const char **error)
{
	struct zmember m;
	if ((*error = zip_member(p, len, &m)) != NULL)
		return NULL;
	*error = "feedback.unpack.corrupt";
	if (m.lfh > len || len - m.lfh < ZIP_LFH_LEN || le32(p + m.lfh) != ZIP_LFH_SIG)
		return NULL;
	size_t data = (size_t)m.lfh + ZIP_LFH_LEN + le16(p + m.lfh + 26) + le16(p + m.lfh + 28);
	if (data > len || len - data < m.csize)
		return NULL;
	if (m.method == 0) {
		if (m.csize != m.usize)
			return NULL;
		return copy_capped(p + data, m.csize, cap, outlen, error);
	}
	return inflate_capped(p + data, m.csize, -15, cap, outlen, error);
}

char *unpack_report(const unsigned char *p, size_t len, size_t out_cap, size_t *outlen,
                    const char **error)
{
	*error = NULL;
	*outlen = 0;
	switch (unpack_kind_of(p, len)) {
	case UNPACK_GZIP:
		return inflate_capped(p, len, 16 + 15, out_cap, outlen, error);
	case UNPACK_ZIP:
		return unzip(p, len, out_cap, outlen, error);
	default:
		return copy_capped(p, len, out_cap, outlen, error);
	}
}
