/*
 * engine - the milter server: the listening socket, the connections and
 * their limits, the worker threads, and the stop with its drain. The
 * protocol itself is mproto.c.
 *
 * Connections wait in one epoll set (one-shot): a thread is bound to a
 * connection only while it handles what the MTA sent, so an idle or slow
 * connection costs its protocol and session state but no thread. A worker
 * takes one ready connection from the set, reads what has arrived, handles
 * every complete command in it, writes all replies of that burst in one
 * write, and puts the connection back into the set. A connection's events
 * therefore run in order, one at a time. Workers that find no other waiting
 * start another; at most ENGINE_IDLE_MAX wait, at most ENGINE_MAX_WORKERS
 * exist (they bound the messages evaluated at once, DNS waits included).
 * New connections are accepted by whichever worker the listening socket
 * wakes.
 *
 * Limits (engine_limits): a command must arrive whole within timeout
 * seconds of its first byte, however slowly the bytes come (the first
 * command, negotiation, within timeout of the connect); between
 * commands the MTA may be silent for idle_timeout seconds; a connection
 * that breaks either is closed with a log line (the MTA applies its
 * milter_default_action to the message). At most max_conns connections are
 * open; a connection past that is accepted and closed at once (same
 * consequence for the MTA), with one log line per ENGINE_REFUSE_LOG_S.
 * The controlling thread (engine_run, engine_drain) checks the deadlines
 * every ENGINE_TICK_MS.
 *
 * Stopping: engine_stop (from any thread or a signal-handling thread) makes
 * engine_run shut the listener down and return. engine_drain then lets messages
 * in flight finish: connections between messages are closed at once, the
 * others right after their end-of-message reply, all that remain when the
 * time is up are cut (the MTA applies its milter_default_action).
 */
#ifndef TM_ENGINE_H
#define TM_ENGINE_H

#include "mproto.h"

#define ENGINE_MAX_WORKERS 4096
#define ENGINE_IDLE_MAX 32
#define ENGINE_TICK_MS 250          /* deadline checks */
#define ENGINE_REFUSE_LOG_S 60      /* at most one "max_connections reached" line per this */
#define ENGINE_FD_RESERVE 256       /* descriptors kept for DNS, the audit store, logs */

/* The connection limits (milter.timeout, milter.idle_timeout,
 * milter.max_connections). */
struct engine_limits {
	unsigned timeout;        /* s: a command from its first byte; a blocked write */
	unsigned idle_timeout;   /* s: the MTA's silence between commands */
	unsigned max_conns;      /* open connections */
};

typedef struct engine engine;

/* engine_new - listen on spec (unix:/path, local:/path, inet:PORT[@HOST],
 * inet6:PORT[@HOST]); a unix socket file in the way is removed (the caller
 * checks first that no one listens on it). The soft RLIMIT_NOFILE is raised
 * to the hard limit; when that still leaves too few descriptors for
 * lim->max_conns, the cap is lowered to fit and a warning logged. NULL with
 * err on failure. */
engine *engine_new(const char *spec, const struct engine_limits *lim, const struct mp_handler *h,
		   void *arg, char *err, size_t errlen);
/* engine_spec_valid - nonzero for the socket forms engine_new takes
 * (libmilter's: unix:/path, local:/path, inet:PORT[@HOST], inet6:PORT[@HOST]). */
int engine_spec_valid(const char *spec);
/* engine_unix_path - the path of a unix socket spec, NULL for inet ones. */
const char *engine_unix_path(const char *spec);
/* engine_run - accept and serve until engine_stop; 0, or -1 if the listener failed. */
int engine_run(engine *e);
/* engine_stop - make engine_run return (async-signal-safe). */
void engine_stop(engine *e);
/* engine_drain - after engine_run: wait up to seconds for messages in
 * flight, then close every connection and wait for the workers. Returns
 * the number of messages still in flight when the time was up. */
unsigned engine_drain(engine *e, unsigned seconds);
/* engine_counts - open connections and messages in flight right now. */
void engine_counts(engine *e, unsigned *conns, unsigned *messages);
/* engine_free - release e once engine_drain has returned 0 workers left;
 * otherwise it is left for the process exit. */
void engine_free(engine *e);

#endif
