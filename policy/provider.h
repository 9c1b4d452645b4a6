/*
 * provider - the mailbox provider of a recipient domain, for the statistics
 * that are per provider (outbound recipients in the audit record, feedback
 * loop complaints). The map is configuration (feedback.providers, by
 * default the consumer domains of Gmail, Yahoo/AOL and Microsoft), compiled
 * once per snapshot; every other domain is "other".
 */
#ifndef TM_PROVIDER_H
#define TM_PROVIDER_H

#include <stddef.h>

enum provider { PROV_GMAIL = 0, PROV_YAHOO, PROV_MICROSOFT, PROV_OTHER, PROV_N };

struct conf;

/* One domain of the map; name is lower case, without a trailing dot. */
struct provider_domain {
	const char *name;
	size_t len;
	enum provider p;
};

/* A compiled map: one allocation (free it with free()). */
struct provider_map {
	size_t n;
	struct provider_domain d[];
};

/* provider_map_new - feedback.providers of c compiled ("DOMAIN=PROVIDER",
 * PROVIDER gmail, yahoo or microsoft); NULL with why ("item N: ...") for a
 * bad item or out of memory. */
struct provider_map *provider_map_new(const struct conf *c, char *why, size_t whylen);
/* provider_of_domain - the provider of (d, n) in m; ASCII case-insensitive,
 * one trailing dot ignored; m NULL: other. */
enum provider provider_of_domain(const struct provider_map *m, const char *d, size_t n);
/* provider_of_path - the provider of an RFC 5321 path's domain ("<a@b>"). */
enum provider provider_of_path(const struct provider_map *m, const char *path);
/* provider_name - "gmail", "yahoo", "microsoft", "other". */
const char *provider_name(enum provider p);

#endif
