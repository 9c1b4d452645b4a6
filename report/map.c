/*
 * map - a small string-keyed hash map (open addressing, FNV-1a), and the
 * allocation helpers of trustmilter-report: running out of memory ends the
 * program with status 2 (xcalloc, xbuf_new).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "report.h"

#define MAP_MAX_KEYS 1000000      /* distinct groups/domains/findings kept; past it
                                     the rest is counted under "(other)" */

/* fnv - FNV-1a of a string. */
static uint64_t fnv(const char *s)
{
	return fnv1a64(FNV64_INIT, s, strlen(s));
}

void *xcalloc(size_t n, size_t sz)
{
	void *p = calloc(n ? n : 1, sz ? sz : 1);
	if (p == NULL) {
		fprintf(stderr, "trustmilter-report: out of memory\n");
		exit(2);
	}
	return p;
}

buf *xbuf_new(size_t cap)
{
	buf *b = buf_new(cap);
	if (b == NULL) {
		fprintf(stderr, "trustmilter-report: out of memory\n");
		exit(2);
	}
	return b;
}

/* map_find - the value for key, or NULL when absent. */
void *map_find(const struct map *m, const char *key)
{
	if (m->cap == 0)
		return NULL;
	for (size_t j = fnv(key) & (m->cap - 1); m->e[j].key; j = (j + 1) & (m->cap - 1))
		if (strcmp(m->e[j].key, key) == 0)
			return m->e[j].val;
	return NULL;
}

/* map_get - the value for key, created zeroed if absent. */
void *map_get(struct map *m, const char *key)
{
	if (m->cap == 0 || (m->n + 1) * 2 > m->cap) {
		size_t nc = m->cap ? m->cap * 2 : 64;
		struct entry *ne = xcalloc(nc, sizeof(*ne));
		for (size_t i = 0; i < m->cap; i++)
			if (m->e[i].key) {
				size_t j = fnv(m->e[i].key) & (nc - 1);
				while (ne[j].key)
					j = (j + 1) & (nc - 1);
				ne[j] = m->e[i];
			}
		free(m->e);
		m->e = ne;
		m->cap = nc;
	}
	if (m->n >= MAP_MAX_KEYS)
		key = "(other)";
	size_t j = fnv(key) & (m->cap - 1);
	while (m->e[j].key) {
		if (strcmp(m->e[j].key, key) == 0)
			return m->e[j].val;
		j = (j + 1) & (m->cap - 1);
	}
	m->e[j].key = strdup(key);
	m->e[j].val = xcalloc(1, m->vsize);
	if (m->e[j].key == NULL) {
		fprintf(stderr, "trustmilter-report: out of memory\n");
		exit(2);
	}
	m->n++;
	return m->e[j].val;
}

/* map_sorted - entries in key order (caller frees the array). */
static int entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->key, ((const struct entry *)b)->key);
}
struct entry *map_sorted(const struct map *m)
{
	struct entry *v = xcalloc(m->n, sizeof(*v));
	size_t k = 0;
	for (size_t i = 0; i < m->cap; i++)
		if (m->e[i].key)
			v[k++] = m->e[i];
	qsort(v, k, sizeof(*v), entry_cmp);
	return v;
}

void map_free(struct map *m, void (*fv)(void *))
{
	for (size_t i = 0; i < m->cap; i++)
		if (m->e[i].key) {
			free(m->e[i].key);
			if (fv)
				fv(m->e[i].val);
			free(m->e[i].val);
		}
	free(m->e);
	memset(m, 0, sizeof(*m));
}
