/*
 * provider - recipient domain to mailbox provider (see provider.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "provider.h"
#include "conf.h"
#include "buf.h"

static const char *const names[PROV_N] = { "gmail", "yahoo", "microsoft", "other" };

/* parse_item - "DOMAIN=PROVIDER": the domain's length and the provider; -1. */
static int parse_item(const char *item, size_t *dlen, enum provider *p)
{
	const char *eq = strchr(item, '=');
	if (eq == NULL || eq == item)
		return -1;
	size_t n = (size_t)(eq - item);
	if (item[n - 1] == '.')
		n--;
	if (n == 0 || dom_name_len(item, n, DOM_LDH) < 0)
		return -1;
	for (int k = 0; k < PROV_OTHER; k++)
		if (strcmp(eq + 1, names[k]) == 0) {
			*dlen = n;
			*p = (enum provider)k;
			return 0;
		}
	return -1;
}

struct provider_map *provider_map_new(const struct conf *c, char *why, size_t whylen)
{
	const char *const *items;
	size_t cnt = conf_list(c, "feedback.providers", &items), bytes = 0;
	for (size_t i = 0; i < cnt; i++)
		bytes += strlen(items[i]) + 1;
	struct provider_map *m = malloc(sizeof(*m) + cnt * sizeof(m->d[0]) + bytes);
	if (m == NULL) {
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	char *text = (char *)&m->d[cnt];
	m->n = cnt;
	for (size_t i = 0; i < cnt; i++) {
		struct provider_domain *d = &m->d[i];
		if (parse_item(items[i], &d->len, &d->p) < 0) {
			snprintf(why, whylen, "item %zu: \"%s\" is not DOMAIN=gmail|yahoo|microsoft", i + 1, items[i]);
			free(m);
			return NULL;
		}
		memcpy(text, items[i], d->len);
		text[d->len] = '\0';
		str_lower(text);
		d->name = text;
		text += d->len + 1;
	}
	return m;
}

enum provider provider_of_domain(const struct provider_map *m, const char *d, size_t n)
{
	if (n > 0 && d[n - 1] == '.')
		n--;
	for (size_t i = 0; m && i < m->n; i++)
		if (mem_caseeq(d, n, m->d[i].name, m->d[i].len))
			return m->d[i].p;
	return PROV_OTHER;
}

enum provider provider_of_path(const struct provider_map *m, const char *path)
{
	const char *at = strrchr(path, '@');
	if (at == NULL)
		return PROV_OTHER;
	size_t n = strcspn(at + 1, "> \t");
	return provider_of_domain(m, at + 1, n);
}

const char *provider_name(enum provider p)
{
	return p < PROV_N ? names[p] : "other";
}
