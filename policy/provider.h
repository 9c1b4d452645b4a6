/*
 * provider - the mailbox provider of a recipient domain, for the statistics
 * that are per provider (outbound recipients in the audit record, feedback
 * loop complaints): a built-in map of the consumer domains of Gmail,
 * Yahoo/AOL and Microsoft; every other domain is "other".
 */
#ifndef TM_PROVIDER_H
#define TM_PROVIDER_H

#include <stddef.h>

enum provider { PROV_GMAIL = 0, PROV_YAHOO, PROV_MICROSOFT, PROV_OTHER, PROV_N };

/* provider_of_domain - the provider of (d, n); ASCII case-insensitive, one
 * trailing dot ignored. */
enum provider provider_of_domain(const char *d, size_t n);
/* provider_of_path - the provider of an RFC 5321 path's domain ("<a@b>"). */
enum provider provider_of_path(const char *path);
/* provider_name - "gmail", "yahoo", "microsoft", "other". */
const char *provider_name(enum provider p);

#endif
