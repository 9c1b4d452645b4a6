/*
 * provider - recipient domain to mailbox provider (see provider.h).
 */
#include <string.h>
#include "provider.h"
#include "buf.h"

static const struct { const char *dom; enum provider p; } map[] = {
	{ "gmail.com", PROV_GMAIL }, { "googlemail.com", PROV_GMAIL },
	{ "yahoo.com", PROV_YAHOO }, { "ymail.com", PROV_YAHOO }, { "rocketmail.com", PROV_YAHOO },
	{ "aol.com", PROV_YAHOO }, { "aim.com", PROV_YAHOO }, { "verizon.net", PROV_YAHOO },
	{ "yahoo.co.uk", PROV_YAHOO }, { "yahoo.fr", PROV_YAHOO }, { "yahoo.de", PROV_YAHOO },
	{ "outlook.com", PROV_MICROSOFT }, { "hotmail.com", PROV_MICROSOFT },
	{ "live.com", PROV_MICROSOFT }, { "msn.com", PROV_MICROSOFT },
	{ "hotmail.co.uk", PROV_MICROSOFT }, { "outlook.fr", PROV_MICROSOFT },
};

enum provider provider_of_domain(const char *d, size_t n)
{
	if (n > 0 && d[n - 1] == '.')
		n--;
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (mem_caseeq(d, n, map[i].dom, strlen(map[i].dom)))
			return map[i].p;
	return PROV_OTHER;
}

enum provider provider_of_path(const char *path)
{
	const char *at = strrchr(path, '@');
	if (at == NULL)
		return PROV_OTHER;
	size_t n = strcspn(at + 1, "> \t");
	return provider_of_domain(at + 1, n);
}

const char *provider_name(enum provider p)
{
	static const char *const names[PROV_N] = { "gmail", "yahoo", "microsoft", "other" };
	return p < PROV_N ? names[p] : "other";
}
