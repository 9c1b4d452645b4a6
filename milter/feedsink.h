/*
 * feedsink - the daemon's feedback thread: report messages (session_feedback)
 * are queued at end of message and parsed and stored by one thread of their
 * own, off the milter's reply path (stats/feedingest on a reader
 * connection of the audit store).
 *
 * The queue is bounded (reports and bytes): feedsink_submit copies the
 * report and returns at once; when the queue is full the report is dropped,
 * counted and logged, and mail never waits. Every report gives one log line
 * (stored, already stored, refused with its finding, dropped).
 */
#ifndef TM_FEEDSINK_H
#define TM_FEEDSINK_H

#include <stddef.h>

#define FEEDSINK_BYTES_MAX (256u << 20)   /* bytes of queued reports at most */

typedef struct feedsink feedsink;

/* feedsink_start - open the store of c (audit.store) for the thread and
 * start it, with c's feedback.queue_size, bulk.campaign_header and
 * feedback.providers (read once: a reload does not change them). NULL with err. */
struct conf;
feedsink *feedsink_start(const struct conf *c, char *err, size_t errlen);
/* feedsink_submit - queue a copy of (p, len) (qid names it in the log); 0
 * queued, -1 dropped. Never blocks on the thread's work. */
int feedsink_submit(feedsink *f, const char *p, size_t len, const char *qid);
/* feedsink_stop - store what is queued, stop the thread, close; NULL accepted. */
void feedsink_stop(feedsink *f);

#endif
