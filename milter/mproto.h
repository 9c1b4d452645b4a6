/*
 * mproto - the milter protocol (version 6, as Postfix and Sendmail speak it)
 * for one connection, without sockets or threads: bytes in, events to a
 * handler, replies out. engine.c moves the bytes; tests and the fuzz target
 * drive it directly.
 *
 * Wire format: every packet is a 32-bit length in network order (counting
 * the command byte), a command byte, then the data. The MTA sends commands
 * (SMFIC_*), the milter answers with replies and modification requests
 * (SMFIR_*). The constants come from libmilter's public header mfdef.h; the
 * library itself is not used.
 *
 * What this layer does on its own:
 *   - option negotiation from the handler's wanted actions, protocol steps
 *     and macro lists, intersected with what the MTA offers; a step whose
 *     "no reply" flag the MTA does not offer is answered with CONTINUE;
 *   - macros per stage, cleared like libmilter does (a command at stage k
 *     drops the macros of later stages);
 *   - message order: a command out of order (a header before MAIL, MAIL
 *     inside a message) is ignored or ends the previous message with an
 *     abort, so the handler only sees connect, helo, then per message
 *     mail, rcpt..., data, header..., eoh, body..., eom (or abort);
 *   - caps: one packet at most MP_MAX_PACKET bytes, macros per stage at most
 *     MP_MAX_MACRO_BYTES, queued output at most MP_MAX_OUT bytes. A packet
 *     over the cap, an unknown command or a malformed negotiation ends the
 *     connection with a message in mp_error(); the MTA then applies its
 *     milter_default_action.
 */
#ifndef TM_MPROTO_H
#define TM_MPROTO_H

#include <stddef.h>
#include <libmilter/mfapi.h>   /* SMFIF_*, SMFIM_* (declarations only; the library is not linked) */
#include <libmilter/mfdef.h>   /* SMFIC_*, SMFIR_*, SMFIP_* */

#define MP_MAX_PACKET (1u << 20)       /* one command: Postfix sends <= 64 KB body chunks */
#define MP_MAX_MACRO_BYTES 16384       /* macro names and values of one stage */
#define MP_MAX_OUT (4u << 20)          /* replies queued for one write */
#define MP_STAGES 7                    /* SMFIM_CONNECT .. SMFIM_EOH */
#define MP_VERSION 6                   /* the protocol version we speak */

typedef struct mp_conn mp_conn;

/* What a handler answers for a step (ignored where "no reply" was negotiated). */
enum mp_action { MP_CONTINUE, MP_ACCEPT, MP_REJECT, MP_TEMPFAIL, MP_DISCARD };

/* The events of one connection. Every function pointer must be set. priv is
 * what open returned. Strings are NUL-terminated and point into the input
 * buffer: valid only during the call. */
struct mp_handler {
	unsigned long need_actions;    /* SMFIF_* without which we refuse the MTA */
	unsigned long want_actions;    /* SMFIF_* we ask for */
	unsigned long want_proto;      /* SMFIP_* steps skipped / no reply / flags */
	const char *symlist[MP_STAGES]; /* macros to ask for per stage, NULL for none */
	/* open - a connection starts (or restarts after QUIT_NC); NULL refuses it */
	void *(*open)(void *arg, mp_conn *c);
	/* close - the connection ends; priv is not used again */
	void (*close)(void *priv);
	/* refuse - negotiation failed (what the MTA offers is not enough) */
	void (*refuse)(void *priv, const char *why);
	enum mp_action (*connect)(void *priv, const char *host, const char *ip);
	enum mp_action (*helo)(void *priv, const char *name);
	enum mp_action (*mail)(void *priv, const char *path);
	enum mp_action (*rcpt)(void *priv, const char *path);
	enum mp_action (*header)(void *priv, const char *name, const char *value, size_t vlen);
	enum mp_action (*eoh)(void *priv);
	enum mp_action (*body)(void *priv, const unsigned char *p, size_t n);
	enum mp_action (*eom)(void *priv);
	void (*abort)(void *priv);
};

/* mp_new - state for one connection; NULL on OOM. open() is called on the
 * first command, not here. */
mp_conn *mp_new(const struct mp_handler *h, void *arg);
/* mp_free - calls close() if open() was called; NULL is accepted. */
void mp_free(mp_conn *c);

/* mp_inbuf - room to read into: at least 1 byte, *room set. NULL on OOM. */
unsigned char *mp_inbuf(mp_conn *c, size_t *room);
/* mp_received - n bytes were read into mp_inbuf(); process every complete
 * packet. 0: go on; 1: the MTA said QUIT; -1: error (see mp_error). */
int mp_received(mp_conn *c, size_t n);
/* mp_received_at - mp_received, told when the bytes arrived (milliseconds
 * on any monotonic clock): the arrival of an incomplete command's first
 * byte is remembered for mp_deadline. Between commands (nothing incomplete)
 * the connection holds no input buffer. */
int mp_received_at(mp_conn *c, size_t n, long long now);
/* mp_input_at - n bytes at p arrived at now: process them in place; only
 * an incomplete packet at the end is copied (the hot path copies nothing).
 * Returns as mp_received. */
int mp_input_at(mp_conn *c, const unsigned char *p, size_t n, long long now);
/* mp_deadline - when the connection's wait ends: an incomplete command must
 * be whole by its first byte's arrival + timeout however its bytes trickle
 * in; between commands the MTA may be silent until now + idle (now: the
 * last read). */
long long mp_deadline(const mp_conn *c, long long now, long long timeout, long long idle);
/* mp_feed - copy (p, n) in and process it (for tests and fuzzing). */
int mp_feed(mp_conn *c, const unsigned char *p, size_t n);

/* mp_output - the replies to write; mp_output_done - n of them were written
 * (once all are, the output buffer is freed until the next reply). */
const unsigned char *mp_output(const mp_conn *c, size_t *len);
void mp_output_done(mp_conn *c, size_t n);

/* mp_partial - nonzero if part of a command has arrived and the rest not yet. */
int mp_partial(const mp_conn *c);
/* mp_error - why mp_received returned -1. */
const char *mp_error(const mp_conn *c);
/* mp_in_message - nonzero between MAIL and the end of the message (safe to
 * read from another thread). */
int mp_in_message(const mp_conn *c);
/* mp_pflags - the negotiated protocol flags (SMFIP_*). */
unsigned long mp_pflags(const mp_conn *c);

/* mp_macro - a macro's value, "name" or "{name}" either way; NULL if unset.
 * The latest stage that has it wins. */
const char *mp_macro(const mp_conn *c, const char *name);

/* Modifications, only from the eom handler; 0, or -1 if the action was not
 * negotiated, an argument is invalid or the output cap is reached. */
/* mp_insheader - insert a field at index (0: at the top). */
int mp_insheader(mp_conn *c, unsigned index, const char *name, const char *value);
/* mp_chgheader - change the index-th (from 1) field of that name; value NULL removes it. */
int mp_chgheader(mp_conn *c, const char *name, unsigned index, const char *value);
/* mp_quarantine - hold the message with reason. */
int mp_quarantine(mp_conn *c, const char *reason);
/* mp_setreply - the SMTP reply to use with MP_REJECT or MP_TEMPFAIL:
 * rcode "4xx"/"5xx", xcode "x.y.z" or NULL, text (printable ASCII) or NULL. */
int mp_setreply(mp_conn *c, const char *rcode, const char *xcode, const char *text);

#endif
