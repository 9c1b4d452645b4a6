/*
 * signkeys - DKIM signing keys and settings; see signkeys.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/stat.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include "signkeys.h"
#include "keytable.h"
#include "dkimcanon.h"
#include "addr.h"

#define KEYFILE_MAX 65536             /* a PEM key file; 16384-bit RSA is ~13 KB */
#define TABLE_FILE_MAX (4 * 1024 * 1024)

struct skey {
	EVP_PKEY *pkey;
	enum signkeys_alg alg;
	unsigned bits;
	char path[1024];
};

struct native {
	char domain[254];
	char selector[64];
	size_t key;
};

struct signkeys {
	conf *conf;                   /* the settings' lists point into it */
	int enabled;
	int unaligned;
	unsigned min_bits;
	struct skey *keys;
	size_t nkeys;
	struct native *nat;
	size_t nnat;
	struct keytable_key *kt;
	size_t *kt_key;               /* key index of each KeyTable entry */
	size_t nkt;
	struct keytable_sign *st;
	size_t *st_kt;                /* KeyTable entry of each SigningTable entry */
	size_t nst;
	int refile;
	struct signkeys_settings set;
	buf *warn;
	int sealing;                  /* arc.seal_key loaded into seal */
	struct native seal;
};

const char *signkeys_alg_name(enum signkeys_alg a)
{
	return a == SIGNKEYS_ED25519_SHA256 ? "ed25519-sha256" : "rsa-sha256";
}

/* read_file - the whole file (at most max bytes) into a heap buffer; with
 * the key-file permission check when check_mode. NULL with err. */
static char *read_file(const char *path, size_t max, int check_mode, buf *warn, size_t *len,
                       char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	if (!S_ISREG(st.st_mode) || (size_t)st.st_size > max) {
		snprintf(err, errlen, "%s: not a regular file of at most %zu bytes", path, max);
		close(fd);
		return NULL;
	}
	if (check_mode && (st.st_mode & (S_IROTH | S_IWOTH))) {
		snprintf(err, errlen, "%s: private key readable or writable by others (mode %04o): "
		         "chmod 0600 or 0640", path, (unsigned)(st.st_mode & 07777));
		close(fd);
		return NULL;
	}
	if (check_mode && (st.st_mode & S_IRGRP))
		buf_printf(warn, "%s: private key readable by its group (mode %04o)\n", path,
		           (unsigned)(st.st_mode & 07777));
	char *p = malloc((size_t)st.st_size + 1);
	ssize_t r = p ? read(fd, p, (size_t)st.st_size) : -1;
	close(fd);
	if (r < 0 || r != st.st_size) {
		snprintf(err, errlen, "%s: cannot read", path);
		free(p);
		return NULL;
	}
	p[r] = '\0';
	*len = (size_t)r;
	return p;
}

static int no_password(char *b, int size, int rw, void *u)
{
	(void)b; (void)size; (void)rw; (void)u;
	return 0;   /* an encrypted key is an error, never a prompt */
}

/* load_key - one PEM private key file into k; 0, or -1 with err. */
static int load_key(signkeys *ks, const char *path, struct skey *k, char *err, size_t errlen)
{
	size_t len;
	char *p = read_file(path, KEYFILE_MAX, 1, ks->warn, &len, err, errlen);
	if (p == NULL)
		return -1;
	BIO *bio = BIO_new_mem_buf(p, (int)len);
	k->pkey = bio ? PEM_read_bio_PrivateKey(bio, NULL, no_password, NULL) : NULL;
	BIO_free(bio);
	OPENSSL_cleanse(p, len);
	free(p);
	str_copy(k->path, sizeof(k->path), path, strlen(path));
	if (k->pkey == NULL) {
		snprintf(err, errlen, "%s: not a PEM private key (PKCS#1 or PKCS#8, unencrypted)", path);
		return -1;
	}
	int id = EVP_PKEY_get_base_id(k->pkey);
	k->bits = (unsigned)EVP_PKEY_get_bits(k->pkey);
	if (id == EVP_PKEY_ED25519) {
		k->alg = SIGNKEYS_ED25519_SHA256;
		return 0;
	}
	k->alg = SIGNKEYS_RSA_SHA256;
	if (id != EVP_PKEY_RSA)
		snprintf(err, errlen, "%s: neither an RSA nor an Ed25519 key", path);
	else if (k->bits < ks->min_bits)
		snprintf(err, errlen, "%s: RSA key of %u bits, below sign.min_rsa_bits (%u)", path,
		         k->bits, ks->min_bits);
	else
		return 0;
	EVP_PKEY_free(k->pkey);
	k->pkey = NULL;
	return -1;
}

/* key_index - the loaded key of path (each file loaded once); -1 with err. */
static long key_index(signkeys *ks, const char *path, char *err, size_t errlen)
{
	for (size_t i = 0; i < ks->nkeys; i++)
		if (strcmp(ks->keys[i].path, path) == 0)
			return (long)i;
	struct skey *nk = realloc(ks->keys, (ks->nkeys + 1) * sizeof(*nk));
	if (nk == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	ks->keys = nk;
	memset(&nk[ks->nkeys], 0, sizeof(*nk));
	if (load_key(ks, path, &nk[ks->nkeys], err, errlen) < 0)
		return -1;
	return (long)ks->nkeys++;
}

/* native_item - one "DOMAIN:SELECTOR:KEYFILE" (item n of key) into nt, its
 * key loaded; 0, or -1 with err. */
static int native_item(signkeys *ks, const conf *c, const char *key, size_t n, const char *text,
                       struct native *nt, char *err, size_t errlen)
{
	struct keytable_key k;
	char line[KEYTABLE_LINE_MAX];
	snprintf(line, sizeof(line), "x %s", text);
	char why[128];
	if (keytable_parse_keys(line, strlen(line), &k, 1, why, sizeof(why)) != 1 ||
	    strcmp(k.domain, "%") == 0 || !addr_domain_valid(k.domain, strlen(k.domain))) {
		snprintf(err, errlen, "%s: %s: item %zu: not \"DOMAIN:SELECTOR:KEYFILE\"",
		         conf_where(c, key), key, n);
		return -1;
	}
	long ki = key_index(ks, k.path, err, errlen);
	if (ki < 0)
		return -1;
	str_copy(nt->domain, sizeof(nt->domain), k.domain, strlen(k.domain));
	str_lower(nt->domain);
	str_copy(nt->selector, sizeof(nt->selector), k.selector, strlen(k.selector));
	nt->key = (size_t)ki;
	return 0;
}

/* load_native - sign.keys: "DOMAIN:SELECTOR:KEYFILE" each. */
static int load_native(signkeys *ks, const conf *c, char *err, size_t errlen)
{
	const char *const *items;
	size_t n = conf_list(c, "sign.keys", &items);
	ks->nat = calloc(n ? n : 1, sizeof(*ks->nat));
	if (ks->nat == NULL)
		return snprintf(err, errlen, "out of memory"), -1;
	for (size_t i = 0; i < n; i++, ks->nnat++)
		if (native_item(ks, c, "sign.keys", i + 1, items[i], &ks->nat[ks->nnat], err, errlen) < 0)
			return -1;
	return 0;
}

/* load_seal - arc.seal_key, required when arc.seal is not "never". */
static int load_seal(signkeys *ks, const conf *c, char *err, size_t errlen)
{
	const char *v = conf_str(c, "arc.seal_key");
	if (v[0] == '\0') {
		if (strcmp(conf_str(c, "arc.seal"), "never") == 0)
			return 0;
		snprintf(err, errlen, "%s: arc.seal is \"%s\" but arc.seal_key is empty",
		         conf_where(c, "arc.seal"), conf_str(c, "arc.seal"));
		return -1;
	}
	if (native_item(ks, c, "arc.seal_key", 1, v, &ks->seal, err, errlen) < 0)
		return -1;
	ks->sealing = 1;
	return 0;
}

/* table_path - "refile:PATH", "file:PATH" or PATH: the path, and whether
 * the refile form was asked for. */
static const char *table_path(const char *v, int *refile)
{
	*refile = strncmp(v, "refile:", 7) == 0;
	if (*refile)
		return v + 7;
	return strncmp(v, "file:", 5) == 0 ? v + 5 : v;
}

/* read_table - the KeyTable (keys 1) or SigningTable (keys 0) of v parsed
 * into new arrays (the entries, and an index per entry in *idx); the count,
 * or -1 with err naming the file. */
static int read_table(signkeys *ks, const char *v, int keys, int *refile, void **out, size_t **idx,
                      char *err, size_t errlen)
{
	const char *path = table_path(v, refile);
	size_t len;
	char why[160];
	char *p = read_file(path, TABLE_FILE_MAX, 0, ks->warn, &len, err, errlen);
	if (p == NULL)
		return -1;
	*out = calloc(KEYTABLE_MAX, keys ? sizeof(struct keytable_key) : sizeof(struct keytable_sign));
	*idx = calloc(KEYTABLE_MAX, sizeof(**idx));
	int n = -1;
	snprintf(why, sizeof(why), "out of memory");
	if (*out && *idx)
		n = keys ? keytable_parse_keys(p, len, *out, KEYTABLE_MAX, why, sizeof(why))
		         : keytable_parse_signing(p, len, *out, KEYTABLE_MAX, why, sizeof(why));
	free(p);
	if (n < 0)
		snprintf(err, errlen, "%s: %s", path, why);
	return n;
}

/* load_keytable - sign.opendkim_keytable: every key loaded now. */
static int load_keytable(signkeys *ks, const char *v, char *err, size_t errlen)
{
	void *o = NULL;
	int refile, n = read_table(ks, v, 1, &refile, &o, &ks->kt_key, err, errlen);
	ks->kt = o;
	if (n < 0)
		return -1;
	ks->nkt = (size_t)n;
	for (size_t i = 0; i < ks->nkt; i++) {
		struct keytable_key *k = &ks->kt[i];
		str_lower(k->domain);
		if (strcmp(k->domain, "%") != 0 && !addr_domain_valid(k->domain, strlen(k->domain)))
			return snprintf(err, errlen, "%s: key %s: bad domain", v, k->name), -1;
		long ki = key_index(ks, k->path, err, errlen);
		if (ki < 0)
			return -1;
		ks->kt_key[i] = (size_t)ki;
	}
	return 0;
}

/* load_signingtable - sign.opendkim_signingtable; every key name must be in
 * the KeyTable. */
static int load_signingtable(signkeys *ks, const char *v, char *err, size_t errlen)
{
	void *o = NULL;
	int n = read_table(ks, v, 0, &ks->refile, &o, &ks->st_kt, err, errlen);
	ks->st = o;
	if (n < 0)
		return -1;
	ks->nst = (size_t)n;
	for (size_t i = 0; i < ks->nst; i++) {
		size_t k = 0;
		while (k < ks->nkt && strcmp(ks->kt[k].name, ks->st[i].keyname) != 0)
			k++;
		if (k == ks->nkt)
			return snprintf(err, errlen, "%s: key name %s is not in the KeyTable", v,
			                ks->st[i].keyname), -1;
		ks->st_kt[i] = k;
	}
	return 0;
}

/* load_settings - canonicalization, header lists, flags. */
static void load_settings(signkeys *ks, const conf *c)
{
	const char *cn = conf_str(c, "sign.canonicalization");
	ks->set.hcanon = strncmp(cn, "simple/", 7) == 0 ? SIGNKEYS_SIMPLE : SIGNKEYS_RELAXED;
	const char *slash = strchr(cn, '/');
	ks->set.bcanon = slash && strcmp(slash + 1, "simple") == 0 ? SIGNKEYS_SIMPLE : SIGNKEYS_RELAXED;
	ks->set.nheaders = conf_list(c, "sign.headers", &ks->set.headers);
	ks->set.noversign = conf_list(c, "sign.oversign", &ks->set.oversign);
	ks->unaligned = conf_bool(c, "sign.unaligned");
	ks->min_bits = (unsigned)conf_int(c, "sign.min_rsa_bits");
}

signkeys *signkeys_new(const conf *c, char *err, size_t errlen)
{
	signkeys *ks = calloc(1, sizeof(*ks));
	if (ks == NULL || (ks->warn = buf_new(16384)) == NULL) {
		free(ks);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	ks->conf = conf_ref((conf *)c);
	load_settings(ks, c);
	if (load_seal(ks, c, err, errlen) < 0)
		goto fail;
	if (!conf_bool(c, "sign.enabled"))
		return ks;
	const char *kt = conf_str(c, "sign.opendkim_keytable");
	const char *st = conf_str(c, "sign.opendkim_signingtable");
	if ((kt[0] != '\0') != (st[0] != '\0')) {
		snprintf(err, errlen, "%s: sign.opendkim_keytable and sign.opendkim_signingtable go "
		         "together", conf_path(c));
		goto fail;
	}
	if (load_native(ks, c, err, errlen) < 0 ||
	    (kt[0] && (load_keytable(ks, kt, err, errlen) < 0 ||
	               load_signingtable(ks, st, err, errlen) < 0)))
		goto fail;
	if (ks->nkeys == 0) {
		snprintf(err, errlen, "%s: sign.enabled is true but no key is configured (sign.keys, "
		         "sign.opendkim_keytable)", conf_where(c, "sign.enabled"));
		goto fail;
	}
	ks->enabled = 1;
	return ks;
fail:
	signkeys_free(ks);
	return NULL;
}

void signkeys_free(signkeys *ks)
{
	if (ks == NULL)
		return;
	for (size_t i = 0; i < ks->nkeys; i++)
		EVP_PKEY_free(ks->keys[i].pkey);
	free(ks->keys);
	free(ks->nat);
	free(ks->kt);
	free(ks->kt_key);
	free(ks->st);
	free(ks->st_kt);
	buf_free(ks->warn);
	conf_unref(ks->conf);
	free(ks);
}

int signkeys_enabled(const signkeys *ks) { return ks && ks->enabled; }
const char *signkeys_warnings(const signkeys *ks) { return buf_data(ks->warn); }
const struct signkeys_settings *signkeys_settings(const signkeys *ks) { return &ks->set; }

/* use_of - fill u from a key and its names. */
static void use_of(const signkeys *ks, size_t key, const char *domain, const char *selector,
                   const char *from_domain, struct signkeys_use *u)
{
	const struct skey *k = &ks->keys[key];
	*u = (struct signkeys_use){ .domain = domain, .selector = selector, .alg = k->alg,
	                            .bits = k->bits, .pkey = k->pkey };
	u->aligned = from_domain && dom_at_or_below(from_domain, strlen(from_domain), domain,
	                                            strlen(domain));
}

/* signkeys_seal - see signkeys.h. */
int signkeys_seal(const signkeys *ks, struct signkeys_use *u)
{
	if (ks == NULL || !ks->sealing)
		return -1;
	use_of(ks, ks->seal.key, ks->seal.domain, ks->seal.selector, NULL, u);
	return 0;
}

/* have - is (domain, selector) already among out[0..n)? */
static int have(const struct signkeys_use *out, size_t n, const char *d, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(out[i].domain, d) == 0 && strcmp(out[i].selector, s) == 0)
			return 1;
	return 0;
}

/* native_for - the native keys of domain, else of its closest parent. */
static size_t native_for(const signkeys *ks, const char *domain, struct signkeys_use *out,
                         size_t max)
{
	for (const char *d = domain; d; d = strchr(d, '.') ? strchr(d, '.') + 1 : NULL) {
		size_t n = 0;
		for (size_t i = 0; i < ks->nnat && n < max; i++)
			if (strcmp(ks->nat[i].domain, d) == 0)
				use_of(ks, ks->nat[i].key, ks->nat[i].domain, ks->nat[i].selector, domain,
				       &out[n++]);
		if (n)
			return n;
	}
	return 0;
}

size_t signkeys_for(const signkeys *ks, const char *local, const char *domain,
                    struct signkeys_use *out, size_t max, size_t *unaligned)
{
	*unaligned = 0;
	if (!signkeys_enabled(ks))
		return 0;
	size_t n = native_for(ks, domain, out, max);
	for (size_t i = 0; i < ks->nst && n < max; i++) {
		if (!keytable_match(&ks->st[i], ks->refile, local, domain))
			continue;
		const struct keytable_key *k = &ks->kt[ks->st_kt[i]];
		const char *d = strcmp(k->domain, "%") == 0 ? domain : k->domain;
		struct signkeys_use u;
		use_of(ks, ks->kt_key[ks->st_kt[i]], d, k->selector, domain, &u);
		if (!u.aligned && !ks->unaligned)
			(*unaligned)++;
		else if (!have(out, n, u.domain, u.selector))
			out[n++] = u;
		break;   /* the first match, as OpenDKIM without MultipleSignatures */
	}
	return n;
}

size_t signkeys_count(const signkeys *ks)
{
	size_t n = ks->nnat;
	for (size_t i = 0; i < ks->nkt; i++)
		n += strcmp(ks->kt[i].domain, "%") != 0;
	return n;
}

int signkeys_get(const signkeys *ks, size_t i, struct signkeys_use *u, const char **path)
{
	if (i < ks->nnat) {
		use_of(ks, ks->nat[i].key, ks->nat[i].domain, ks->nat[i].selector, NULL, u);
		*path = ks->keys[ks->nat[i].key].path;
		return 0;
	}
	i -= ks->nnat;
	for (size_t k = 0; k < ks->nkt; k++) {
		if (strcmp(ks->kt[k].domain, "%") == 0 || i-- > 0)
			continue;
		use_of(ks, ks->kt_key[k], ks->kt[k].domain, ks->kt[k].selector, NULL, u);
		*path = ks->keys[ks->kt_key[k]].path;
		return 0;
	}
	return -1;
}

int signkeys_public_record(const struct signkeys_use *u, buf *out)
{
	unsigned char raw[64], *der = NULL;
	int len;
	if (u->alg == SIGNKEYS_ED25519_SHA256) {
		size_t rl = sizeof(raw);
		if (EVP_PKEY_get_raw_public_key(u->pkey, raw, &rl) != 1)
			return -1;
		buf_puts(out, "v=DKIM1; k=ed25519; p=");
		return dkimcanon_b64(out, raw, rl);
	}
	len = i2d_PUBKEY(u->pkey, &der);
	if (len <= 0)
		return -1;
	buf_puts(out, "v=DKIM1; k=rsa; p=");
	int r = dkimcanon_b64(out, der, (size_t)len);
	OPENSSL_free(der);
	return r;
}
