/*
 * metrics - live counters in the Prometheus text exposition format, served
 * by a tiny loopback-only HTTP responder (GET /metrics).
 *
 * One metrics object per process, created once by the daemon and handed to
 * every tm_env (it outlives configuration reloads). Counting is lock-free
 * (atomic adds) so the mail threads never wait; the responder runs in its
 * own thread and answers one request at a time.
 */
#ifndef TM_METRICS_H
#define TM_METRICS_H

#include <stddef.h>
#include "audit.h"
#include "buf.h"
#include "store.h"

typedef struct metrics metrics;

metrics *metrics_new(void);
/* metrics_free - stops the responder; NULL is accepted. */
void metrics_free(metrics *m);
/* metrics_count - count one message from its audit record. */
void metrics_count(metrics *m, const struct audit_record *r);
/* metrics_set_store - report this store's queue depth and drops (may be NULL). */
void metrics_set_store(metrics *m, store *st);
/* metrics_render - the exposition text into out. */
int metrics_render(metrics *m, buf *out);
/* metrics_serve - listen on "127.0.0.1:PORT", "[::1]:PORT" or "localhost:PORT"
 * (loopback only: the counters reveal traffic volumes) and start the
 * responder thread. PORT 0 picks a free port (see metrics_port). 0 or -1 with err. */
int metrics_serve(metrics *m, const char *listen, char *err, size_t errlen);
/* metrics_listen_check - would metrics_serve accept this address? 0 yes, -1 with
 * a reason (no socket is opened: for trustmilter -n). */
int metrics_listen_check(const char *listen_on, char *err, size_t errlen);
/* metrics_port - the port being served, 0 when not serving. */
int metrics_port(const metrics *m);

#endif
