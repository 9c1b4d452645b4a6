/*
 * conf - configuration: a table of keys (name, type, default, range, docs)
 * read from a libconfig file into an immutable, reference-counted snapshot.
 *
 * Keys are dotted paths ("dns.timeout_ms") that map onto libconfig groups
 * (dns: { timeout_ms = 3000; };). Unknown keys, wrong types and out-of-range
 * values are load errors naming the file and line. The daemon swaps the whole
 * snapshot on reload; readers hold a reference while they use it.
 * Getters abort on a key that is not in the table: that is a programming error.
 */
#ifndef TM_CONF_H
#define TM_CONF_H

#include <stddef.h>
#include "buf.h"

enum conf_type { CONF_INT, CONF_BOOL, CONF_STR, CONF_LIST };

struct conf_key {
	const char *name;      /* dotted path */
	enum conf_type type;
	const char *def;       /* default as text: "3000", "true", "mx", "a,b" (list) */
	long min, max;         /* INT range; for STR with choices, see choices */
	const char *choices;   /* STR: "|"-separated allowed values, or NULL */
	const char *doc;       /* one-paragraph description for the annotated example */
};

typedef struct conf conf;

/* conf_load - defaults overlaid with path (NULL: defaults only). NULL with err. */
conf *conf_load(const char *path, char *err, size_t errlen);
/* conf_set - override one key from text (command-line options), before sharing. */
int conf_set(conf *c, const char *key, const char *value, char *err, size_t errlen);
conf *conf_ref(conf *c);
void conf_unref(conf *c);

long conf_int(const conf *c, const char *key);
int conf_bool(const conf *c, const char *key);
const char *conf_str(const conf *c, const char *key);
/* conf_list - items of a list key; returns the count. */
size_t conf_list(const conf *c, const char *key, const char *const **items);
/* conf_path - the file this snapshot was read from, or "(defaults)". */
const char *conf_path(const conf *c);
/* conf_where - "file:line" where key was set, or the file path when the key has
 * its default (or was set on the command line): for error messages. */
const char *conf_where(const conf *c, const char *key);

/* conf_write_example - the annotated example configuration, from the table. */
int conf_write_example(buf *b);

/* conf_keys - the table, terminated by a NULL name (docs and tests use it). */
const struct conf_key *conf_keys(void);

#endif
