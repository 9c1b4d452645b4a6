/*
 * feedsink - the daemon's feedback thread; see feedsink.h.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include "feedsink.h"
#include "feedingest.h"
#include "store.h"
#include "ingest.h"
#include "fbcap.h"
#include "conf.h"
#include "provider.h"

_Static_assert(FBCAP_MAX == INGEST_INPUT_MAX, "the session keeps what the parsers accept");

struct item {
	struct item *next;
	size_t len;
	char qid[64];
	char data[];
};

struct feedsink {
	pthread_mutex_t lock;
	pthread_cond_t more;
	pthread_t thread;
	struct item *head, *tail;   /* guarded by lock */
	size_t n, bytes, max;       /* guarded by lock */
	int stopping;               /* guarded by lock */
	unsigned long long dropped; /* guarded by lock */
	store *st;                  /* the thread's own */
	char campaign_header[256];
	struct feedingest_opts opts;   /* campaign_header, providers */
	struct provider_map *providers;
	struct feedingest_count count; /* the thread's own */
};

/* take - the next report, or NULL when stopping with an empty queue. */
static struct item *take(feedsink *f)
{
	pthread_mutex_lock(&f->lock);
	while (f->head == NULL && !f->stopping)
		pthread_cond_wait(&f->more, &f->lock);
	struct item *it = f->head;
	if (it != NULL) {
		f->head = it->next;
		if (f->head == NULL)
			f->tail = NULL;
		f->n--;
		f->bytes -= it->len;
	}
	pthread_mutex_unlock(&f->lock);
	return it;
}

/* ingest - one report into the store, with its log line. */
static void ingest(feedsink *f, const struct item *it)
{
	char why[512];
	struct feedingest_count before = f->count;
	int r = feedingest_one(f->st, it->data, it->len, &f->opts, &f->count, why, sizeof(why));
	if (r == 1)
		syslog(LOG_INFO, "%s: feedback report stored: %s%s", it->qid,
		       f->count.arf > before.arf ? "arf" : "dmarc",
		       f->count.complaints > before.complaints ? " complaint" : "");
	else if (r == 0)
		syslog(LOG_INFO, "%s: feedback report already stored", it->qid);
	else if (r == 2)
		syslog(LOG_NOTICE, "%s: feedback report refused: %s", it->qid, why);
	else
		syslog(LOG_ERR, "%s: feedback report not stored: %s", it->qid, why);
}

static void *run(void *arg)
{
	feedsink *f = arg;
	struct item *it;
	while ((it = take(f)) != NULL) {
		ingest(f, it);
		free(it);
	}
	return NULL;
}

feedsink *feedsink_start(const conf *c, char *err, size_t errlen)
{
	feedsink *f = calloc(1, sizeof(*f));
	if (f == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	f->max = (size_t)conf_int(c, "feedback.queue_size");
	snprintf(f->campaign_header, sizeof(f->campaign_header), "%s", conf_str(c, "bulk.campaign_header"));
	f->providers = provider_map_new(c, err, errlen);
	f->opts = (struct feedingest_opts){ f->campaign_header, f->providers };
	f->st = f->providers ? store_open_reader(conf_str(c, "audit.store"), err, errlen) : NULL;
	if (f->st == NULL) {
		free(f->providers);
		free(f);
		return NULL;
	}
	pthread_mutex_init(&f->lock, NULL);
	pthread_cond_init(&f->more, NULL);
	if (pthread_create(&f->thread, NULL, run, f) != 0) {
		snprintf(err, errlen, "cannot start the feedback thread");
		store_close(f->st);
		pthread_cond_destroy(&f->more);
		pthread_mutex_destroy(&f->lock);
		free(f->providers);
		free(f);
		return NULL;
	}
	return f;
}

/* drop - count and log a report the queue has no room for. */
static int drop(feedsink *f, const char *qid, const char *why)
{
	pthread_mutex_lock(&f->lock);
	unsigned long long n = ++f->dropped;
	pthread_mutex_unlock(&f->lock);
	syslog(LOG_WARNING, "%s: feedback report dropped: %s (%llu dropped so far)", qid, why, n);
	return -1;
}

int feedsink_submit(feedsink *f, const char *p, size_t len, const char *qid)
{
	if (f == NULL)
		return -1;
	struct item *it = malloc(sizeof(*it) + len);
	if (it == NULL)
		return drop(f, qid, "out of memory");
	it->next = NULL;
	it->len = len;
	snprintf(it->qid, sizeof(it->qid), "%s", qid);
	memcpy(it->data, p, len);
	pthread_mutex_lock(&f->lock);
	int full = f->n >= f->max || f->bytes + len > FEEDSINK_BYTES_MAX || f->stopping;
	if (!full) {
		if (f->tail)
			f->tail->next = it;
		else
			f->head = it;
		f->tail = it;
		f->n++;
		f->bytes += len;
		pthread_cond_signal(&f->more);
	}
	pthread_mutex_unlock(&f->lock);
	if (full) {
		free(it);
		return drop(f, qid, "queue full");
	}
	return 0;
}

void feedsink_stop(feedsink *f)
{
	if (f == NULL)
		return;
	pthread_mutex_lock(&f->lock);
	f->stopping = 1;
	pthread_cond_signal(&f->more);
	pthread_mutex_unlock(&f->lock);
	pthread_join(f->thread, NULL);
	syslog(LOG_INFO, "feedback reports: %llu ARF (%llu complaints, %llu matched), %llu DMARC, "
	       "%llu already stored, %llu refused, %llu dropped",
	       (unsigned long long)f->count.arf, (unsigned long long)f->count.complaints,
	       (unsigned long long)f->count.matched, (unsigned long long)f->count.dmarc,
	       (unsigned long long)f->count.duplicates, (unsigned long long)f->count.refused,
	       f->dropped);
	store_close(f->st);
	pthread_cond_destroy(&f->more);
	pthread_mutex_destroy(&f->lock);
	free(f->providers);
	free(f);
}
