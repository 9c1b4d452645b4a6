/*
 * engine - the milter server: the listening socket, the connection threads,
 * and the stop with its drain. The protocol itself is mproto.c.
 *
 * Threads: a pool of workers, each blocked in accept on the listening
 * socket; the kernel gives a new connection to exactly one of them, which
 * owns it until it ends: one blocking read takes whatever the MTA has sent,
 * every complete command in it is handled, and all replies of that burst
 * leave in one write. A connection's events therefore run on one thread, in
 * order, and nothing is handed between threads. A worker that takes the last
 * waiting place starts another; at most ENGINE_IDLE_MAX wait, at most
 * ENGINE_MAX_WORKERS exist (further connections wait in the listen backlog).
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
#define ENGINE_SILENCE_MAX_S 3600   /* the MTA's silence between commands */

typedef struct engine engine;

/* engine_new - listen on spec (unix:/path, local:/path, inet:PORT[@HOST],
 * inet6:PORT[@HOST]); a unix socket file in the way is removed (the caller
 * checks first that no one listens on it). timeout: seconds a write may
 * block, and the rest of a command may take once it started arriving;
 * between commands the MTA may be silent for ENGINE_SILENCE_MAX_S (Postfix
 * keeps a milter connection for a whole SMTP session, and SMTP clients
 * pause between commands). NULL with err on failure. */
engine *engine_new(const char *spec, unsigned timeout, const struct mp_handler *h, void *arg,
		   char *err, size_t errlen);
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
