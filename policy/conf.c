/*
 * conf - the configuration key table and its libconfig reader; see conf.h.
 *
 * The table below is the single source of truth for every key: its type,
 * default, range and documentation. conf/trustmilter.conf is checked against
 * it by the tests (every key documented, every documented key known), and the
 * loader refuses keys it does not know so that a typo is an error, not a
 * silently ignored setting.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <libconfig.h>
#include "conf.h"
#include "buf.h"

#define CONF_LIST_MAX 256      /* items in one list key: networks, zones, rules */
#define CONF_STR_MAX 4096      /* bytes in one string value */

static const struct conf_key keys[] = {
	{ "authserv_id", CONF_STR, "", 0, 0, NULL,
	  "authserv-id written into Authentication-Results (RFC 8601) and used to remove forged "
	  "fields carrying it. Empty: the host name." },
	{ "hostname", CONF_STR, "", 0, 0, NULL,
	  "This host's name, used for SPF's %{r} macro and the Received-SPF field. Empty: the host name." },
	{ "dns.forwarders", CONF_LIST, "", 0, 0, NULL,
	  "DNS servers to send every query to, as \"IP\" or \"IP@PORT\". Empty: /etc/resolv.conf." },
	{ "dns.transparent_zones", CONF_LIST, "", 0, 0, NULL,
	  "Zones that libunbound would answer itself (test., invalid., home.arpa., ...) but that "
	  "should be resolved through the forwarders, e.g. [\"test.\"] for test setups." },
	{ "dns.timeout_ms", CONF_INT, "4000", 100, 60000, NULL,
	  "Deadline for one DNS query in milliseconds. Keep it well under the MTA's milter "
	  "timeouts (Postfix milter_content_timeout defaults to 300 s, but each step counts)." },
	{ "dns.max_queries", CONF_INT, "100", 10, 10000, NULL,
	  "DNS queries one message may cause (SPF, DKIM keys, DMARC); past it lookups fail "
	  "temporarily and the finding dns.budget_exhausted is reported." },
	{ "dmarc.mode", CONF_STR, "rfc9989", 0, 0, "rfc9989|rfc7489",
	  "DMARC flavour: rfc9989 (DNS tree walk, np, psd, t; pct ignored) or rfc7489 "
	  "(organizational domain from the Public Suffix List, pct honoured)." },
	{ "arc.verify", CONF_BOOL, "true", 0, 0, NULL,
	  "Validate ARC chains (RFC 8617) on every message: arc=pass|fail|none in "
	  "Authentication-Results, the JSON, the log line and the audit record." },
	{ "arc.oldest_pass", CONF_BOOL, "true", 0, 0, NULL,
	  "Also determine the oldest-pass value of a passing ARC chain (RFC 8617 5.2 steps 5-6, "
	  "optional): header.oldest-pass in Authentication-Results and oldest_pass in the JSON. "
	  "It costs one more signature verification per older instance (about 20 us of CPU "
	  "per message for a 2-instance chain); the trusted-sealer override does not need it "
	  "(the ARC-Seals cover every ARC-Authentication-Results), so false saves that cost and "
	  "leaves header.oldest-pass out rather than guessing it." },
	{ "arc.trusted_sealers", CONF_LIST, "", 0, 0, NULL,
	  "Sealing domains (and their subdomains) trusted to report authentication results of "
	  "mail they forward, e.g. [\"lists.example.org\"]. When DMARC fails, the ARC chain "
	  "passes, the newest ARC-Seal is by a trusted domain and the ARC-Authentication-Results of "
	  "the oldest instance of the unbroken run of trusted sealers above it shows DMARC, or an "
	  "aligned DKIM or SPF, passing for the From domain, the DMARC disposition is replaced by "
	  "the finding dmarc.override.arc (RFC 8617 7.2, RFC 9989 local policy)." },
	{ "arc.override_action", CONF_STR, "accept", 0, 0, "accept|junk|quarantine",
	  "The action for mail whose failed DMARC policy a trusted ARC sealer overrides "
	  "(dmarc.override.arc): accept (deliver, annotated), junk or quarantine." },
	{ "arc.seal", CONF_STR, "never", 0, 0, "never|outbound|listed",
	  "Which mail gets an ARC set (RFC 8617 5.1: ARC-Authentication-Results, "
	  "ARC-Message-Signature, ARC-Seal) added on its way through: never; outbound (every "
	  "outbound message, and the mail of arc.seal_networks and arc.seal_daemons); listed (only "
	  "the mail of arc.seal_networks and arc.seal_daemons, e.g. a list server re-injecting "
	  "mail). Sealing validates the arriving chain (as arc.verify) to continue it with the "
	  "right cv=." },
	{ "arc.seal_key", CONF_STR, "", 0, 0, NULL,
	  "The sealing key, \"DOMAIN:SELECTOR:KEYFILE\" (d=, s= and a PEM key file checked like "
	  "sign.keys: RSA of at least sign.min_rsa_bits or Ed25519). Required when arc.seal is not "
	  "never." },
	{ "arc.seal_networks", CONF_LIST, "", 0, 0, NULL,
	  "Client networks (CIDR) whose mail is sealed (arc.seal outbound or listed), e.g. the "
	  "address of a Mailman or Sympa host re-injecting list mail." },
	{ "arc.seal_daemons", CONF_LIST, "", 0, 0, NULL,
	  "MTA daemon names ({daemon_name}) whose mail is sealed (arc.seal outbound or listed), "
	  "e.g. the Postfix service a list server re-injects through." },
	{ "bulk.headers", CONF_LIST, "", 0, 0, NULL,
	  "Extra header field names whose presence marks a message as bulk (besides "
	  "Precedence: bulk/list, List-Id, List-Unsubscribe and Feedback-ID)." },
	{ "bulk.senders", CONF_LIST, "", 0, 0, NULL,
	  "From domains whose mail is always bulk (their subdomains too)." },
	{ "bulk.campaign_header", CONF_STR, "", 0, 0, NULL,
	  "Header field whose value names the campaign; empty: List-Id, then Feedback-ID." },
	{ "limits.header_count", CONF_INT, "1000", 50, 100000, NULL,
	  "Header fields kept per message; more gives the finding limits.headers. From, Sender, "
	  "DKIM-Signature, ARC-*, Authentication-Results, List-Unsubscribe(-Post) and the "
	  "compliance field are kept outside this cap, each class with its own." },
	{ "limits.header_bytes", CONF_INT, "262144", 8192, 16777216, NULL,
	  "Bytes of header fields kept per message; more gives the finding limits.headers. "
	  "The protected fields (see limits.header_count) are counted apart." },
	{ "policy.mode", CONF_STR, "monitor", 0, 0, "monitor|enforce",
	  "monitor (the default): every message is checked, annotated (Authentication-Results, the "
	  "compliance header), logged and recorded with the action the rules decide, but nothing "
	  "is rejected, junked, held or deferred. enforce: the decided action is carried out. "
	  "Read the log lines (action=... mode=monitor) for a while, then set mode = \"enforce\"." },
	{ "policy.dry_run", CONF_BOOL, "false", 0, 0, NULL,
	  "Older name for monitor mode, kept as an alias: true means monitor whatever policy.mode "
	  "says; false leaves policy.mode in charge." },
	{ "policy.on_error", CONF_STR, "tempfail", 0, 0, "accept|tempfail",
	  "What to do with a message when trustmilter itself fails (out of memory, internal error)." },
	{ "policy.inbound.actions", CONF_LIST,
	  "dmarc.disposition.reject=reject,dmarc.disposition.quarantine=junk,"
	  "spam.score.reject=reject:550 5.7.1 Message rejected as spam,spam.score.quarantine=junk",
	  0, 0, NULL,
	  "Rules for inbound mail (acting in enforce mode), \"FINDING=ACTION\" or "
	  "\"FINDING=ACTION:CODE X.Y.Z text\". FINDING is a finding name or a prefix ending in '*'; "
	  "ACTION is accept, junk (deliver with X-Spam-Flag: YES for the Junk folder), quarantine "
	  "(Postfix hold queue), tempfail, reject or discard. Of all rules matching a finding the "
	  "strongest wins, whatever their order (reject = discard > tempfail > quarantine > junk "
	  "> accept), and the strongest over all findings decides." },
	{ "policy.outbound.actions", CONF_LIST,
	  "spam.score.reject=reject:550 5.7.1 Message rejected as spam,spam.score.quarantine=quarantine", 0, 0, NULL,
	  "Rules for outbound mail, same syntax, e.g. \"bulk.no_one_click=reject\". Outbound "
	  "spam is held (quarantine), not junked: X-Spam-Flag would only mark our own mail as "
	  "spam at the receiver." },
	{ "policy.domain_actions", CONF_LIST, "", 0, 0, NULL,
	  "Per sender domain rules, \"DOMAIN:FINDING=ACTION[:reply]\"; when the From domain (or "
	  "a parent) matches and a domain rule matches a finding, the domain rules replace the "
	  "direction's rules for that finding (softer or stronger; the strongest matching domain "
	  "rule wins)." },
	{ "policy.allow_networks", CONF_LIST, "", 0, 0, NULL,
	  "Client networks (CIDR) whose mail is annotated but never rejected, held or deferred." },
	{ "policy.allow_senders", CONF_LIST, "", 0, 0, NULL,
	  "From domains (and their subdomains) whose mail is annotated but never rejected, held "
	  "or deferred. Only applied when DMARC passes, so a forged From cannot use it." },
	{ "policy.reject_reply", CONF_STR, "550 5.7.1 Message rejected by sender policy", 0, 0, NULL,
	  "Default SMTP reply for reject rules without their own reply." },
	{ "policy.tempfail_reply", CONF_STR, "451 4.7.1 Temporary failure checking the message, try again later",
	  0, 0, NULL, "Default SMTP reply for tempfail rules and on_error." },
	{ "header.compliance", CONF_STR, "X-Trustmilter", 0, 0, NULL,
	  "Name of the compliance header (findings, bulk verdict, provider readiness). Empty: not added." },
	{ "header.received_spf", CONF_BOOL, "false", 0, 0, NULL,
	  "Also add a Received-SPF field (RFC 7208 9.1)." },
	{ "sign.enabled", CONF_BOOL, "false", 0, 0, NULL,
	  "Sign outbound mail with DKIM (the direction rules decide what is outbound). The "
	  "signing domain is the From domain (aligned), else its closest parent with a key; "
	  "a message whose From domain has no key leaves unsigned with the finding "
	  "dkim.sign.no_key. The outbound checks then judge the message with its new "
	  "signatures. Keys are loaded at start and reload; a bad key refuses the start and "
	  "keeps the old configuration on reload." },
	{ "sign.keys", CONF_LIST, "", 0, 0, NULL,
	  "Signing keys, \"DOMAIN:SELECTOR:KEYFILE\" each. KEYFILE is a PEM private key, "
	  "PKCS#1 or PKCS#8 (opendkim-genkey, openssl genpkey): RSA of at least "
	  "sign.min_rsa_bits, or Ed25519 (RFC 8463). Two entries for one domain sign every "
	  "message twice (dual signing, e.g. RSA and Ed25519). A key file readable by others "
	  "is refused; one readable by its group is loaded with a warning." },
	{ "sign.opendkim_keytable", CONF_STR, "", 0, 0, NULL,
	  "OpenDKIM KeyTable file (\"KEYNAME DOMAIN:SELECTOR:KEYFILE\" lines; DOMAIN \"%\" "
	  "is the From domain), used with sign.opendkim_signingtable. Empty: not used." },
	{ "sign.opendkim_signingtable", CONF_STR, "", 0, 0, NULL,
	  "OpenDKIM SigningTable file (\"PATTERN KEYNAME\" lines): a path for the plain form "
	  "(PATTERN an address or a domain), \"refile:PATH\" for patterns with '*' "
	  "wildcards. The first entry matching the From address chooses the key, as OpenDKIM "
	  "without MultipleSignatures; native sign.keys of the domain come first." },
	{ "sign.unaligned", CONF_BOOL, "false", 0, 0, NULL,
	  "Also sign with a SigningTable key whose domain is not the From domain or a parent "
	  "of it (such a signature does not help DMARC). Default: such keys are left out." },
	{ "sign.min_rsa_bits", CONF_INT, "2048", 2048, 16384, NULL,
	  "Smallest RSA signing key accepted; 1024-bit keys are always refused (RFC 8301 asks "
	  "verifiers to accept them, mailbox providers want 2048)." },
	{ "sign.canonicalization", CONF_STR, "relaxed/relaxed", 0, 0,
	  "relaxed/relaxed|relaxed/simple|simple/relaxed|simple/simple",
	  "Header/body canonicalization (RFC 6376 3.4). relaxed/relaxed survives the header "
	  "refolding and whitespace changes of relays; l= is never used." },
	{ "sign.headers", CONF_LIST,
	  "From,Subject,Date,Message-ID,To,Cc,Reply-To,MIME-Version,Content-Type,"
	  "Content-Transfer-Encoding,List-Unsubscribe,List-Unsubscribe-Post,List-Id,Feedback-ID",
	  0, 0, NULL,
	  "Header fields signed, each once per instance present (absent ones are not named): "
	  "what the reader sees (From, Subject, Date, To, Cc, Reply-To), what identifies the "
	  "message (Message-ID), what decides how the body is shown (the MIME fields), and what "
	  "mailbox providers require to be inside an aligned signature for bulk mail "
	  "(List-Unsubscribe and List-Unsubscribe-Post, RFC 8058 4; List-Id, Feedback-ID)." },
	{ "sign.oversign", CONF_LIST, "From,List-Unsubscribe,List-Unsubscribe-Post,List-Id,Feedback-ID",
	  0, 0, NULL,
	  "Fields of sign.headers named once more than present in h=, so that a field of that "
	  "name added after signing (a second From, another List-Unsubscribe) breaks the "
	  "signature." },
	{ "spam.enabled", CONF_BOOL, "true", 0, 0, NULL,
	  "Run the spam signal engine (docs/SIGNALS.md) on every message: score and signals in the "
	  "compliance header, the JSON and the audit record." },
	{ "spam.weights", CONF_LIST, "", 0, 0, NULL,
	  "Signal weights replacing the defaults, \"SIGNAL=WEIGHT\" (e.g. \"spam.body.html_only=0\", "
	  "\"spam.dnsbl.zen.example=6\"); weight 0 turns a signal off, -100..100." },
	{ "spam.dnsbl_zones", CONF_LIST, "", 0, 0, NULL,
	  "DNS blocklists for the client address (IPv4 reversed octets, IPv6 reversed nibbles), "
	  "\"ZONE\", \"ZONE=WEIGHT\" or one item per return code \"ZONE:127.0.0.2=WEIGHT\" (then "
	  "only the listed codes count). Signal spam.dnsbl.ZONE, default weight 3." },
	{ "spam.uribl_zones", CONF_LIST, "", 0, 0, NULL,
	  "Domain blocklists for the organizational domains of the message's URLs, \"ZONE\" or "
	  "\"ZONE=WEIGHT\" (queried as DOMAIN.ZONE). Signal spam.uribl.ZONE, default weight 4." },
	{ "spam.shorteners", CONF_LIST, "", 0, 0, NULL,
	  "URL shortener domains in addition to the built-in list (bit.ly, tinyurl.com, t.co, ...)." },
	{ "spam.local_names", CONF_LIST, "", 0, 0, NULL,
	  "Names and addresses of this site that a client's HELO must not claim (besides hostname "
	  "and milter.egress_addresses)." },
	{ "spam.many_recipients", CONF_INT, "25", 0, 100000, NULL,
	  "More recipients than this (envelope, or To and Cc addresses) gives the signal "
	  "spam.header.many_recipients; 0 turns it off." },
	{ "spam.max_scan_bytes", CONF_INT, "1048576", 4096, 268435456, NULL,
	  "Body bytes the MIME walker examines per message; the rest is not examined (signal "
	  "spam.limits.scan_bytes)." },
	{ "spam.max_text_bytes", CONF_INT, "262144", 1024, 16777216, NULL,
	  "Decoded text/plain and text/html bytes kept per message for the URL and content signals, "
	  "each (signal spam.limits.text)." },
	{ "spam.max_mime_parts", CONF_INT, "100", 1, 10000, NULL,
	  "MIME parts examined per message (signal spam.limits.mime_parts past it)." },
	{ "spam.max_mime_depth", CONF_INT, "10", 1, 60, NULL,
	  "MIME nesting levels followed (multipart, message/rfc822); deeper parts are skipped "
	  "(signal spam.limits.mime_depth)." },
	{ "spam.max_urls", CONF_INT, "100", 1, 10000, NULL,
	  "Distinct URLs examined per message (signal spam.limits.urls past it)." },
	{ "spam.max_dns_queries", CONF_INT, "20", 0, 1000, NULL,
	  "DNS blocklist queries (DNSBL and URIBL) per message, within dns.max_queries (signal "
	  "spam.limits.dns past it)." },
	{ "spam.inbound.quarantine_score", CONF_INT, "6", 0, 1000, NULL,
	  "Inbound mail scoring at least this gets the finding spam.score.quarantine (policy maps it "
	  "to an action); 0 turns it off." },
	{ "spam.inbound.reject_score", CONF_INT, "12", 0, 1000, NULL,
	  "Inbound mail scoring at least this gets the finding spam.score.reject; 0 turns it off." },
	{ "spam.outbound.quarantine_score", CONF_INT, "0", 0, 1000, NULL,
	  "Outbound threshold for spam.score.quarantine; 0 turns it off." },
	{ "spam.outbound.reject_score", CONF_INT, "0", 0, 1000, NULL,
	  "Outbound threshold for spam.score.reject; 0 turns it off." },
	{ "milter.socket", CONF_STR, "unix:/var/spool/postfix/trustmilter/trustmilter.sock", 0, 0, NULL,
	  "Socket the daemon listens on: unix:/path, inet:PORT@HOST or inet6:PORT@HOST. The "
	  "default is inside the Postfix queue directory, where a chrooted smtpd reaches it as "
	  "unix:trustmilter/trustmilter.sock." },
	{ "milter.socket_mode", CONF_INT, "432", 0, 511, NULL,
	  "Permissions of a unix socket (decimal; 432 is 0660)." },
	{ "milter.socket_owner", CONF_STR, "", 0, 0, NULL,
	  "user:group that owns a unix socket, e.g. \"trustmilter:postfix\". Empty: unchanged." },
	{ "milter.user", CONF_STR, "trustmilter", 0, 0, NULL,
	  "User to run as after opening the socket and the pid file (when started as root); "
	  "it must exist. Started as root, the daemon refuses to run with this empty: say "
	  "\"root\" to keep root deliberately. Empty when not started as root: no change." },
	{ "milter.pidfile", CONF_STR, "", 0, 0, NULL,
	  "Pid file to write (as root, before the privilege drop). Its directory must belong to "
	  "root (or the starting user) and be writable by no one else, and a symbolic link "
	  "there is refused. Empty: none." },
	{ "milter.syslog_facility", CONF_STR, "mail", 0, 0, NULL, "Syslog facility." },
	{ "milter.log_stderr", CONF_STR, "auto", 0, 0, "auto|yes|no",
	  "In the foreground (-f), also write log lines to standard error: yes, no, or auto: "
	  "only when standard error is a terminal or there is no syslog socket (/dev/log, as in "
	  "many containers), so that under systemd, where both reach the journal, no line is "
	  "logged twice. Without a syslog socket the per-message lines go to standard error "
	  "alone." },
	{ "milter.internal_networks", CONF_LIST, "127.0.0.0/8,::1/128", 0, 0, NULL,
	  "Clients in these networks send outbound mail (with SMTP AUTH and outbound_daemons)." },
	{ "milter.outbound_daemons", CONF_LIST, "", 0, 0, NULL,
	  "MTA daemon names ({daemon_name}) whose mail is outbound, e.g. \"submission\"." },
	{ "milter.egress_addresses", CONF_LIST, "", 0, 0, NULL,
	  "Public addresses this site sends from; outbound SPF is evaluated for the first of "
	  "them instead of the internal client. Empty: the client's own address is used, which "
	  "is right for trustmilter-check but not for a daemon whose outbound clients are internal." },
	{ "milter.drain_seconds", CONF_INT, "30", 0, 3600, NULL,
	  "On SIGTERM, how long to let messages in flight finish (connections between messages "
	  "are closed at once). Transfers still in progress then get the MTA's "
	  "milter_default_action (tempfail): no mail is lost." },
	{ "milter.timeout", CONF_INT, "60", 1, 3600, NULL,
	  "Seconds one milter command may take to arrive, from its first byte to its last "
	  "however slowly the bytes come, and a write to the MTA may block. A connection that "
	  "exceeds it is closed (the MTA applies its milter_default_action)." },
	{ "milter.idle_timeout", CONF_INT, "360", 1, 86400, NULL,
	  "Seconds the MTA may be silent between commands before the connection is closed. "
	  "Postfix keeps one milter connection per SMTP session and sends nothing while the SMTP "
	  "client pauses, up to smtpd_timeout (300 s) per pause; the default leaves a minute "
	  "over that. With a larger smtpd_timeout, or Sendmail (Timeout.command, 1 h), raise it "
	  "to match, or a session that paused longer gets the MTA's milter_default_action." },
	{ "milter.max_connections", CONF_INT, "10000", 1, 1000000, NULL,
	  "Open milter connections at most (each SMTP session holds one; idle connections cost "
	  "memory but no thread). A connection past it is closed at once, so the MTA applies "
	  "its milter_default_action; one log line per minute says how many were refused. Needs "
	  "as many file descriptors (plus 256): the daemon raises its soft RLIMIT_NOFILE to the "
	  "hard limit (systemd: LimitNOFILE) and lowers the cap to fit, with a warning." },
	{ "audit.store", CONF_STR, "", 0, 0, NULL,
	  "Where every message's audit record goes: \"sqlite:/var/lib/trustmilter/audit.db\" "
	  "(created on first use, WAL mode) or \"postgresql://user@host:5432/db\" (libpq URI or "
	  "conninfo; several milters may share one database). Empty: no audit records. Opened "
	  "once at start; a reload keeps the open store (changing it needs a restart)." },
	{ "audit.queue_size", CONF_INT, "10000", 100, 1000000, NULL,
	  "Audit records waiting for the writer thread. When the queue is full a record is "
	  "dropped and counted (logged, and shown by trustmilter-report); mail never waits." },
	{ "audit.batch_size", CONF_INT, "200", 1, 10000, NULL,
	  "Audit records written per database transaction. With fewer queued the writer waits "
	  "up to one second for more, so a quiet server commits about once a second." },
	{ "audit.retention_days", CONF_INT, "0", 0, 36500, NULL,
	  "Delete audit records older than this many days (checked hourly). 0: keep all." },
	{ "audit.flush_seconds", CONF_INT, "10", 1, 600, NULL,
	  "At shutdown, how long to keep trying to write queued audit records before counting "
	  "them as dropped." },
	{ "metrics.listen", CONF_STR, "", 0, 0, NULL,
	  "Serve Prometheus counters (GET /metrics) on this loopback address, e.g. "
	  "\"127.0.0.1:9469\" or \"[::1]:9469\". Empty: off. Loopback only." },
	{ "reports.org_name", CONF_STR, "", 0, 0, NULL,
	  "Reporting organization named in DMARC aggregate reports (RFC 9990 org_name). "
	  "Empty: the host name." },
	{ "reports.email", CONF_STR, "", 0, 0, NULL,
	  "Contact address in DMARC aggregate reports and their sender address. Empty: "
	  "postmaster@ the host name." },
	{ "feedback.arf_recipients", CONF_LIST, "", 0, 0, NULL,
	  "Mailboxes that receive ARF complaint reports (RFC 5965 feedback loops), e.g. "
	  "[\"fbl@example.com\"]. Inbound mail to one of them is kept (header and body, up to "
	  "16 MiB: past it feedback.report.too_large) and, at end of message, handed to the "
	  "daemon's feedback thread, which parses it off the reply path and stores it next to "
	  "the audit records (needs audit.store). Empty: none." },
	{ "feedback.dmarc_recipients", CONF_LIST, "", 0, 0, NULL,
	  "Mailboxes that receive DMARC aggregate reports (the rua addresses of our domains), "
	  "e.g. [\"dmarc-rua@example.com\"]; handled as feedback.arf_recipients (the report's "
	  "form decides the parser)." },
	{ "feedback.after", CONF_STR, "deliver", 0, 0, "deliver|discard",
	  "What happens to a report message once it is handed to the feedback thread: deliver "
	  "(as any other mail) or discard (when every recipient is a report mailbox; an action "
	  "stronger than discard, reject, stays)." },
	{ "feedback.providers", CONF_LIST,
	  "gmail.com=gmail,googlemail.com=gmail,yahoo.com=yahoo,ymail.com=yahoo,rocketmail.com=yahoo,"
	  "aol.com=yahoo,aim.com=yahoo,verizon.net=yahoo,yahoo.co.uk=yahoo,yahoo.fr=yahoo,"
	  "yahoo.de=yahoo,outlook.com=microsoft,hotmail.com=microsoft,live.com=microsoft,"
	  "msn.com=microsoft,hotmail.co.uk=microsoft,outlook.fr=microsoft", 0, 0, NULL,
	  "The mailbox provider of each recipient domain, as \"DOMAIN=PROVIDER\" (gmail, yahoo "
	  "or microsoft): the audit record's recipients per provider and the provider of a "
	  "complaint (the per-provider complaint rates). Other domains count as \"other\". "
	  "Setting the key replaces the list: copy the default and add, e.g. "
	  "\"yahoo.es=yahoo\" or a company domain hosted by Microsoft 365." },
	{ "feedback.queue_size", CONF_INT, "64", 1, 10000, NULL,
	  "Reports waiting for the feedback thread (and at most 256 MiB of them). When the "
	  "queue is full a report is dropped, counted and logged; mail never waits. Read at "
	  "start." },
	{ NULL, 0, NULL, 0, 0, NULL, NULL }
};

#define NKEYS (sizeof(keys) / sizeof(keys[0]) - 1)

struct conf_val {
	long i;
	char *s;
	char **list;
	size_t nlist;
};

#define CONF_SLOTS 1024      /* hash index of key names: a power of two, > 4 x NKEYS */

struct conf {
	int refs;
	char *path;
	struct conf_val v[NKEYS];
	char *where[NKEYS];           /* "file:line" of the setting; NULL: default or override */
	unsigned short slot[CONF_SLOTS]; /* key index + 1, 0 = empty (open addressing) */
};

const struct conf_key *conf_keys(void) { return keys; }

/* name_hash - FNV-1a of a key name. */
static unsigned name_hash(const char *name)
{
	return fnv1a32(FNV32_INIT, name, strlen(name));
}

/* index_build - the hash index of the key table. The getters run several
 * thousand times per message, so a scan of the table with strcmp per call
 * was a measurable part of the daemon's work. */
static void index_build(struct conf *c)
{
	_Static_assert(CONF_SLOTS > 4 * NKEYS, "CONF_SLOTS too small for the key table");
	for (size_t k = 0; k < NKEYS; k++) {
		unsigned i = name_hash(keys[k].name) & (CONF_SLOTS - 1);
		while (c->slot[i] != 0)
			i = (i + 1) & (CONF_SLOTS - 1);
		c->slot[i] = (unsigned short)(k + 1);
	}
}

/* key_index - index of a key in the table, -1 if unknown. */
static int key_index(const struct conf *c, const char *name)
{
	for (unsigned i = name_hash(name) & (CONF_SLOTS - 1); c->slot[i] != 0; i = (i + 1) & (CONF_SLOTS - 1))
		if (strcmp(keys[c->slot[i] - 1].name, name) == 0)
			return c->slot[i] - 1;
	return -1;
}

/* val_clear - free one value. */
static void val_clear(struct conf_val *v)
{
	free(v->s);
	for (size_t i = 0; i < v->nlist; i++)
		free(v->list[i]);
	free(v->list);
	memset(v, 0, sizeof(*v));
}

/* list_push - append a copy of (p,n), trimmed; empty items are skipped. */
static int list_push(struct conf_val *v, const char *p, size_t n)
{
	while (n && (*p == ' ' || *p == '\t'))
		p++, n--;
	while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	if (n == 0)
		return 0;
	if (v->nlist >= CONF_LIST_MAX)
		return -1;
	char **nl = realloc(v->list, (v->nlist + 1) * sizeof(char *));
	if (nl == NULL)
		return -1;
	v->list = nl;
	v->list[v->nlist] = strndup(p, n);
	if (v->list[v->nlist] == NULL)
		return -1;
	v->nlist++;
	return 0;
}

/* set_text - set key k from text (defaults and command-line overrides). */
static int set_text(struct conf *c, int k, const char *text, char *err, size_t errlen)
{
	const struct conf_key *key = &keys[k];
	struct conf_val nv = { 0 };
	char *end;
	switch (key->type) {
	case CONF_INT:
		errno = 0;
		nv.i = strtol(text, &end, 0);
		if (errno || *text == '\0' || *end != '\0' || nv.i < key->min || nv.i > key->max) {
			snprintf(err, errlen, "%s: \"%s\" is not an integer in %ld..%ld",
			         key->name, text, key->min, key->max);
			return -1;
		}
		break;
	case CONF_BOOL:
		if (strcmp(text, "true") == 0 || strcmp(text, "yes") == 0 || strcmp(text, "1") == 0)
			nv.i = 1;
		else if (strcmp(text, "false") == 0 || strcmp(text, "no") == 0 || strcmp(text, "0") == 0)
			nv.i = 0;
		else {
			snprintf(err, errlen, "%s: \"%s\" is not true or false", key->name, text);
			return -1;
		}
		break;
	case CONF_STR:
		if (key->choices) {
			size_t tl = strlen(text);
			const char *ch = key->choices;
			int ok = 0;
			while (*ch) {
				size_t cl = strcspn(ch, "|");
				if (cl == tl && strncmp(ch, text, tl) == 0)
					ok = 1;
				ch += cl + (ch[cl] == '|');
			}
			if (!ok) {
				snprintf(err, errlen, "%s: \"%s\" is not one of %s", key->name, text, key->choices);
				return -1;
			}
		}
		if (strlen(text) > CONF_STR_MAX) {
			snprintf(err, errlen, "%s: value longer than %d bytes", key->name, CONF_STR_MAX);
			return -1;
		}
		nv.s = strdup(text);
		if (nv.s == NULL)
			goto oom;
		break;
	case CONF_LIST:
		for (const char *p = text; *p;) {
			size_t l = strcspn(p, ",");
			if (list_push(&nv, p, l) < 0) {
				val_clear(&nv);
				snprintf(err, errlen, "%s: more than %d items", key->name, CONF_LIST_MAX);
				return -1;
			}
			p += l + (p[l] == ',');
		}
		break;
	}
	val_clear(&c->v[k]);
	c->v[k] = nv;
	return 0;
oom:
	snprintf(err, errlen, "out of memory");
	return -1;
}

/* conf_set - public override by name. */
int conf_set(conf *c, const char *key, const char *value, char *err, size_t errlen)
{
	int k = key_index(c, key);
	if (k < 0) {
		snprintf(err, errlen, "unknown configuration key \"%s\"", key);
		return -1;
	}
	if (set_text(c, k, value, err, errlen) < 0)
		return -1;
	free(c->where[k]);
	c->where[k] = NULL;
	return 0;
}

/* setting_error - "file:line: key: message". */
static void setting_error(const config_setting_t *s, const char *path, char *err, size_t errlen,
                          const char *what)
{
	const char *file = config_setting_source_file(s);
	snprintf(err, errlen, "%s:%u: %s", file ? file : path, config_setting_source_line(s), what);
}

/* load_setting - take one leaf of the file into its key, checking the type. */
static int load_setting(struct conf *c, const config_setting_t *s, const char *dotted,
                        const char *path, char *err, size_t errlen)
{
	char msg[512];
	int k = key_index(c, dotted);
	if (k < 0) {
		snprintf(msg, sizeof(msg), "unknown key \"%s\"", dotted);
		setting_error(s, path, err, errlen, msg);
		return -1;
	}
	const struct conf_key *key = &keys[k];
	int t = config_setting_type(s);
	char num[32];
	const char *text = NULL;
	buf *lb = NULL;
	int rc = -1;
	if (key->type == CONF_INT && (t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64)) {
		snprintf(num, sizeof(num), "%lld", (long long)config_setting_get_int64(s));
		text = num;
	} else if (key->type == CONF_BOOL && t == CONFIG_TYPE_BOOL) {
		text = config_setting_get_bool(s) ? "true" : "false";
	} else if (key->type == CONF_STR && t == CONFIG_TYPE_STRING) {
		text = config_setting_get_string(s);
	} else if (key->type == CONF_LIST && (t == CONFIG_TYPE_ARRAY || t == CONFIG_TYPE_LIST)) {
		lb = buf_new(CONF_LIST_MAX * 256);
		if (lb == NULL)
			return -1;
		for (int i = 0; i < config_setting_length(s); i++) {
			const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
			const char *es = config_setting_get_string(e);
			if (es == NULL || strchr(es, ',')) {
				snprintf(msg, sizeof(msg), "%s: item %d must be a string without commas", dotted, i + 1);
				setting_error(s, path, err, errlen, msg);
				goto out;
			}
			if ((i && buf_putc(lb, ',') < 0) || buf_puts(lb, es) < 0) {
				setting_error(s, path, err, errlen, "list too long");
				goto out;
			}
		}
		text = buf_data(lb);
	} else {
		static const char *const tn[] = { "integer", "boolean", "string", "list of strings" };
		snprintf(msg, sizeof(msg), "%s must be a %s", dotted, tn[key->type]);
		setting_error(s, path, err, errlen, msg);
		return -1;
	}
	if (set_text(c, k, text, msg, sizeof(msg)) < 0) {
		setting_error(s, path, err, errlen, msg);
	} else {
		const char *file = config_setting_source_file(s);
		char w[512];
		snprintf(w, sizeof(w), "%s:%u", file ? file : path, config_setting_source_line(s));
		free(c->where[k]);
		c->where[k] = strdup(w);
		rc = 0;
	}
out:
	buf_free(lb);
	return rc;
}

/* load_group - walk a group recursively, building dotted names. */
static int load_group(struct conf *c, const config_setting_t *g, const char *prefix,
                      const char *path, char *err, size_t errlen)
{
	for (int i = 0; i < config_setting_length(g); i++) {
		const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
		char dotted[256];
		const char *name = config_setting_name(s);
		if (name == NULL)
			continue;
		snprintf(dotted, sizeof(dotted), "%s%s%s", prefix, *prefix ? "." : "", name);
		int r = config_setting_type(s) == CONFIG_TYPE_GROUP
			? load_group(c, s, dotted, path, err, errlen)
			: load_setting(c, s, dotted, path, err, errlen);
		if (r < 0)
			return -1;
	}
	return 0;
}

/* conf_load - table defaults, then the file's settings on top. */
conf *conf_load(const char *path, char *err, size_t errlen)
{
	struct conf *c = calloc(1, sizeof(*c));
	if (c == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->refs = 1;
	index_build(c);
	c->path = strdup(path ? path : "(defaults)");
	for (size_t k = 0; k < NKEYS; k++)
		if (set_text(c, (int)k, keys[k].def, err, errlen) < 0)
			goto fail;
	if (path) {
		config_t cfg;
		config_init(&cfg);
		if (config_read_file(&cfg, path) != CONFIG_TRUE) {
			const char *f = config_error_file(&cfg);
			snprintf(err, errlen, "%s:%d: %s", f ? f : path, config_error_line(&cfg),
			         config_error_text(&cfg));
			config_destroy(&cfg);
			goto fail;
		}
		int r = load_group(c, config_root_setting(&cfg), "", path, err, errlen);
		config_destroy(&cfg);
		if (r < 0)
			goto fail;
	}
	return c;
fail:
	conf_unref(c);
	return NULL;
}

/* conf_ref - take a reference. The caller serialises ref/unref with the swap. */
conf *conf_ref(conf *c)
{
	__atomic_add_fetch(&c->refs, 1, __ATOMIC_SEQ_CST);
	return c;
}

/* conf_unref - drop a reference, freeing on the last. */
void conf_unref(conf *c)
{
	if (c == NULL || __atomic_sub_fetch(&c->refs, 1, __ATOMIC_SEQ_CST) > 0)
		return;
	for (size_t k = 0; k < NKEYS; k++) {
		val_clear(&c->v[k]);
		free(c->where[k]);
	}
	free(c->path);
	free(c);
}

/* must_key - a getter on a key outside the table is a bug: stop loudly. */
static int must_key(const struct conf *c, const char *key, enum conf_type t)
{
	int k = key_index(c, key);
	if (k < 0 || keys[k].type != t) {
		fprintf(stderr, "BUG: configuration key %s used with the wrong type\n", key);
		abort();
	}
	return k;
}

long conf_int(const conf *c, const char *key) { return c->v[must_key(c, key, CONF_INT)].i; }
int conf_bool(const conf *c, const char *key) { return (int)c->v[must_key(c, key, CONF_BOOL)].i; }
const char *conf_str(const conf *c, const char *key) { return c->v[must_key(c, key, CONF_STR)].s; }
const char *conf_path(const conf *c) { return c->path; }

/* conf_where - see conf.h. */
const char *conf_where(const conf *c, const char *key)
{
	int k = key_index(c, key);
	return k >= 0 && c->where[k] ? c->where[k] : c->path;
}

size_t conf_list(const conf *c, const char *key, const char *const **items)
{
	const struct conf_val *v = &c->v[must_key(c, key, CONF_LIST)];
	*items = (const char *const *)v->list;
	return v->nlist;
}

/* wrap_comment - the doc text as "# " lines of at most ~76 columns. */
static void wrap_comment(buf *b, const char *indent, const char *text)
{
	while (*text) {
		size_t take = strlen(text);
		if (take > 72) {
			take = 72;
			while (take > 20 && text[take] != ' ')
				take--;
		}
		buf_printf(b, "%s# %.*s\n", indent, (int)take, text);
		text += take;
		while (*text == ' ')
			text++;
	}
}

/* write_value - a default in libconfig syntax. */
static void write_value(buf *b, const struct conf_key *k)
{
	if (k->type == CONF_INT || k->type == CONF_BOOL) {
		buf_puts(b, k->def);
		return;
	}
	if (k->type == CONF_STR) {
		buf_printf(b, "\"%s\"", k->def);
		return;
	}
	buf_putc(b, '[');
	const char *p = k->def;
	int first = 1;
	while (*p) {
		size_t l = strcspn(p, ",");
		buf_printf(b, "%s\"%.*s\"", first ? " " : ", ", (int)l, p);
		first = 0;
		p += l + (p[l] == ',');
	}
	buf_puts(b, first ? "]" : " ]");
}

/* conf_write_example - the annotated example file, generated from the table
 * so that documentation and code cannot drift apart. Keys sharing a dotted
 * prefix are written inside nested groups, in table order. */
int conf_write_example(buf *b)
{
	buf_puts(b, "# trustmilter.conf - configuration of trustmilter and trustmilter-check\n"
	            "# (libconfig syntax). Every key is shown with its default; delete what you do\n"
	            "# not change. Generated by `trustmilter-check --print-config`; see\n"
	            "# trustmilter.conf(5).\n");
	char open[4][64];
	int depth = 0;
	for (size_t i = 0; i < NKEYS; i++) {
		const struct conf_key *k = &keys[i];
		char parts[4][64];
		int np = 0;
		for (const char *p = k->name; *p && np < 4;) {
			size_t l = strcspn(p, ".");
			str_copy(parts[np++], sizeof(parts[0]), p, l);
			p += l + (p[l] == '.');
		}
		int common = 0;
		while (common < depth && common < np - 1 && strcmp(open[common], parts[common]) == 0)
			common++;
		while (depth > common)
			buf_printf(b, "%*s};\n", 2 * --depth, "");
		while (depth < np - 1) {
			buf_printf(b, "\n%*s%s:\n%*s{\n", 2 * depth, "", parts[depth], 2 * depth, "");
			str_copy(open[depth], sizeof(open[0]), parts[depth], strlen(parts[depth]));
			depth++;
		}
		char indent[16];
		snprintf(indent, sizeof(indent), "%*s", 2 * depth, "");
		buf_putc(b, '\n');
		wrap_comment(b, indent, k->doc);
		if (k->type == CONF_INT)
			buf_printf(b, "%s# integer, %ld..%ld\n", indent, k->min, k->max);
		else if (k->choices)
			buf_printf(b, "%s# one of: %s\n", indent, k->choices);
		buf_printf(b, "%s%s = ", indent, parts[np - 1]);
		write_value(b, k);
		buf_puts(b, ";\n");
	}
	while (depth > 0)
		buf_printf(b, "%*s};\n", 2 * --depth, "");
	return buf_overflowed(b) ? -1 : 0;
}
