/*
 * feedin - trustmilter-report --ingest: saved reports into the store.
 *
 * A path is a file (one message, one bare report file .xml/.xml.gz/.zip,
 * or an mbox: messages separated by "From " lines), a directory (its
 * regular files, in name order, not recursive) or "-" (standard input).
 * Each report is parsed (feedback/ingest) and stored once (stats/feedstore);
 * a refused one is named on standard error with its finding and skipped.
 */
#define _GNU_SOURCE 1
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include "report.h"
#include "store.h"
#include "feedstore.h"
#include "feedingest.h"

#define FEEDIN_FILE_MAX (256u << 20)   /* an mbox or report file read at most this far */

/* read_stream - the whole stream, up to FEEDIN_FILE_MAX (more: -1). */
static char *read_stream(FILE *f, size_t *len)
{
	size_t cap = 1 << 16, n = 0;
	char *b = malloc(cap);
	while (b) {
		if (n == cap) {
			if (cap >= FEEDIN_FILE_MAX) {
				free(b);
				errno = EFBIG;
				return NULL;
			}
			char *nb = realloc(b, cap * 2);
			if (nb == NULL)
				break;
			b = nb;
			cap *= 2;
		}
		size_t k = fread(b + n, 1, cap - n, f);
		n += k;
		if (k == 0) {
			if (ferror(f))
				break;
			*len = n;
			return b;
		}
	}
	free(b);
	return NULL;
}

/* store_one - parse one report and store it. -1 on a store error. */
static int store_one(store *st, const char *src, const char *p, size_t len,
                     const struct feedingest_opts *fo, struct feedingest_count *c)
{
	char why[512];
	int put = feedingest_one(st, p, len, fo, c, why, sizeof(why));
	if (put == 2)
		fprintf(stderr, "trustmilter-report: %s: refused: %s\n", src, why);
	else if (put < 0)
		fprintf(stderr, "trustmilter-report: %s: %s\n", src, why);
	return put < 0 ? -1 : 0;
}

/* is_mbox - the file starts with an mbox "From " separator line. */
static int is_mbox(const char *p, size_t len)
{
	return len > 5 && memcmp(p, "From ", 5) == 0;
}

/* each_message - the messages of an mbox (the separator lines dropped). */
static int each_message(store *st, const char *src, const char *p, size_t len,
                        const struct feedingest_opts *fo, struct feedingest_count *c)
{
	size_t pos = 0;
	int rc = 0, n = 0;
	while (pos < len && rc == 0) {
		const char *nl = memchr(p + pos, '\n', len - pos);
		size_t start = nl ? (size_t)(nl - p) + 1 : len, end = start;
		const char *next = NULL;
		for (size_t at = start; at < len; at = (size_t)(next - p) + 1) {
			next = memchr(p + at, '\n', len - at);
			if (next == NULL || (size_t)(next - p) + 6 > len || memcmp(next + 1, "From ", 5) == 0)
				break;
		}
		end = next && (size_t)(next - p) + 6 <= len ? (size_t)(next - p) + 1 : len;
		char where[4200];
		snprintf(where, sizeof(where), "%s#%d", src, ++n);
		rc = store_one(st, where, p + start, end - start, fo, c);
		pos = end;
	}
	return rc;
}

/* ingest_file - one file or stream. */
static int ingest_file(store *st, const char *path, FILE *f, const struct feedingest_opts *fo, struct feedingest_count *c)
{
	size_t len = 0;
	char *p = read_stream(f, &len);
	if (p == NULL) {
		fprintf(stderr, "trustmilter-report: %s: %s\n", path, strerror(errno ? errno : EIO));
		c->refused++;
		return 0;
	}
	int rc = is_mbox(p, len) ? each_message(st, path, p, len, fo, c)
	                         : store_one(st, path, p, len, fo, c);
	free(p);
	return rc;
}

static int no_hidden(const struct dirent *d) { return d->d_name[0] != '.'; }

/* ingest_dir - the regular files of a directory, in name order. */
static int ingest_dir(store *st, const char *dir, const struct feedingest_opts *fo, struct feedingest_count *c)
{
	struct dirent **names = NULL;
	int n = scandir(dir, &names, no_hidden, alphasort), rc = 0;
	if (n < 0) {
		fprintf(stderr, "trustmilter-report: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	for (int i = 0; i < n; i++) {
		char path[4096];
		struct stat sb;
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
		FILE *f = NULL;
		if (rc == 0 && stat(path, &sb) == 0 && S_ISREG(sb.st_mode) && (f = fopen(path, "rb"))) {
			rc = ingest_file(st, path, f, fo, c);
			fclose(f);
		}
		free(names[i]);
	}
	free(names);
	return rc;
}

int feedin_path(store *st, const char *path, const struct feedingest_opts *fo, struct feedingest_count *c)
{
	struct stat sb;
	if (strcmp(path, "-") == 0)
		return ingest_file(st, "-", stdin, fo, c);
	if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
		return ingest_dir(st, path, fo, c);
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		fprintf(stderr, "trustmilter-report: %s: %s\n", path, strerror(errno));
		return -1;
	}
	int rc = ingest_file(st, path, f, fo, c);
	fclose(f);
	return rc;
}

void feedin_summary(const struct feedingest_count *c, FILE *f)
{
	fprintf(f, "ingested: %llu ARF reports (%llu complaints, %llu matched to outbound mail), "
	        "%llu DMARC aggregate reports (%llu records); %llu duplicates; %llu refused\n",
	        (unsigned long long)c->arf, (unsigned long long)c->complaints,
	        (unsigned long long)c->matched, (unsigned long long)c->dmarc,
	        (unsigned long long)c->records, (unsigned long long)c->duplicates,
	        (unsigned long long)c->refused);
}
