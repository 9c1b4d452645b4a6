/*
 * confcheck - what the key table's types and ranges cannot say: policy rules
 * (finding names against the table of known findings, actions, replies),
 * networks, addresses, domain names, DNS forwarders, listen addresses. Used
 * by trustmilter -n (every error listed) and at start and reload (the first
 * error refuses the configuration). Needs no network.
 */
#ifndef TM_CONFCHECK_H
#define TM_CONFCHECK_H

#include <stddef.h>
#include "conf.h"
#include "buf.h"

/* A check for one value (a string key, or each item of a list key): 0 valid,
 * -1 with a reason in why. */
typedef int (*conf_check_fn)(const char *value, char *why, size_t whylen);

struct conf_check {
	const char *key;
	conf_check_fn fn;
};

/* conf_check - run the built-in checks, then extra (NULL-key terminated, may
 * be NULL: the daemon adds its own, such as milter.socket). Every error is a
 * line "FILE:LINE: KEY: ..." appended to errs; returns the number of errors. */
size_t conf_check(const conf *c, const struct conf_check *extra, buf *errs);


#endif
