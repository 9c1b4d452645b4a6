# trustmilter - GNU make build. See README.md.
#
#   make            build the programs into build/
#   make demo       install dependencies, build, check the sample messages
#   make check      build, run the whole suite, again under ASan+UBSan, fuzz smoke runs
#   make fuzz       longer libFuzzer runs (FUZZ_SECONDS per target)
#   make bench      benchmarks (docs/BENCHMARKS.md)
#   make check-load 200 SMTP sessions, 20,000 messages through Postfix + trustmilter
#   make install    PREFIX=/usr/local DESTDIR=  (programs, man pages, config,
#                   systemd unit, tmpfiles.d/sysusers.d entries, docs)
#   make deb        the Debian package trustmilter_VERSION_ARCH.deb (debian/)
#
# Layout (docs/ARCHITECTURE.md), one folder per library and per program:
#   policy/   the policy core, no threads, sockets or databases (libtmpolicy.a)
#   stats/    audit record type, audit store, live counters (libtmstats.a,
#             builds on policy/)
#   milter/   the daemon, trustmilter
#   check/    trustmilter-check
#   report/   trustmilter-report
# tests/unit/test_*.c are unit tests, tests/tools/*.c test helpers,
# tests/fuzz/fuzz_*.c libFuzzer targets, tests/integration/* executable TAP
# scripts. Each program links the libraries of the folders it uses (and only
# their system libraries); the few tests and tools that need more than
# policy/ have their own rule below. New files are picked up by wildcard, so
# adding a module, a program file or a test never needs a Makefile edit.

VERSION   := 0.1.0
PREFIX    ?= /usr/local
DESTDIR   ?=
SBINDIR   ?= $(PREFIX)/sbin
BINDIR    ?= $(PREFIX)/bin
MANDIR    ?= $(PREFIX)/share/man
DOCDIR    ?= $(PREFIX)/share/doc/trustmilter
LIBDIR    ?= $(PREFIX)/lib
UNITDIR   ?= $(LIBDIR)/systemd/system
TMPFILESDIR ?= $(LIBDIR)/tmpfiles.d
SYSUSERSDIR ?= $(LIBDIR)/sysusers.d
SYSCONFDIR ?= /etc/trustmilter

SAN ?= 0
ifeq ($(SAN),1)
B        ?= build-asan
OPTFLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
SANLD    := -fsanitize=address,undefined
else
B        ?= build
OPTFLAGS := -O2 -g -D_FORTIFY_SOURCE=2
SANLD    :=
endif

CC       ?= cc
PKGS     := libunbound opendkim libconfig libpsl sqlite3 libpq zlib libxml-2.0
# The libraries are found with pkg-config. When one is missing (or one that
# a .pc file requires, e.g. nettle for libunbound), stop and name the Debian
# packages to install instead of compiling without include paths. Goals that
# compile nothing themselves (clean, deps; check, demo and deb run a
# sub-make after installing dependencies) do not ask.
PC_DEB   := libunbound:libunbound-dev nettle:nettle-dev hogweed:nettle-dev libevent:libevent-dev \
            opendkim:libopendkim-dev libconfig:libconfig-dev libpsl:libpsl-dev sqlite3:libsqlite3-dev \
            libpq:libpq-dev zlib:zlib1g-dev libxml-2.0:libxml2-dev libcrypto:libssl-dev
ifneq ($(filter-out clean deps check test demo deb,$(or $(MAKECMDGOALS),all)),)
PKG_MISSING := $(sort $(shell command -v pkg-config >/dev/null || echo pkg-config; \
  for m in $(PC_DEB); do pkg-config --exists $${m%%:*} 2>/dev/null || echo $$m | cut -d: -f2; done))
ifeq ($(PKG_MISSING),)
PKG_MISSING := $(if $(shell pkg-config --exists $(PKGS) || echo x),\
  (pkg-config: $(shell pkg-config --print-errors --exists $(PKGS) 2>&1)))
endif
ifneq ($(PKG_MISSING),)
$(error missing build dependencies: $(PKG_MISSING) -- install them with "contrib/install-deps build" (as root))
endif
endif
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
# what each library needs at link time: a program links only the libraries
# of the folders it uses
POLICY_LIBS := $(shell pkg-config --libs libunbound opendkim libconfig libpsl 2>/dev/null) -lcrypto -lpthread -lm
STATS_LIBS  := $(shell pkg-config --libs sqlite3 libpq 2>/dev/null)
ZLIB_LIBS   := $(shell pkg-config --libs zlib 2>/dev/null)
FEEDBACK_LIBS := $(shell pkg-config --libs libxml-2.0 zlib 2>/dev/null)

WARN     := -Wall -Wextra -Werror -Wshadow -Wpointer-arith -Wformat=2 -Wno-format-nonliteral
HARDEN   := -fstack-protector-strong -fPIE
CFLAGS   ?=
CFLAGS   += -std=gnu11 $(OPTFLAGS) $(WARN) $(HARDEN) -Ipolicy -Istats -Ifeedback $(PKG_CFLAGS) \
            -DTM_VERSION='"$(VERSION)"' -DTM_SYSCONFDIR='"$(SYSCONFDIR)"'
LDFLAGS  += -pie -Wl,-z,relro,-z,now $(SANLD)

POLICY_SRC := $(sort $(wildcard policy/*.c))
POLICY_OBJ := $(POLICY_SRC:%.c=$(B)/%.o)
LIB        := $(B)/libtmpolicy.a
STATS_SRC  := $(sort $(wildcard stats/*.c))
STATS_OBJ  := $(STATS_SRC:%.c=$(B)/%.o)
STATS_LIB  := $(B)/libtmstats.a
FEEDBACK_SRC := $(sort $(wildcard feedback/*.c))
FEEDBACK_OBJ := $(FEEDBACK_SRC:%.c=$(B)/%.o)
FEEDBACK_LIB := $(B)/libtmfeedback.a

# one folder per program
DAEMON_SRC := $(sort $(wildcard milter/*.c))
CHECK_SRC  := $(sort $(wildcard check/*.c))
REPORT_SRC := $(sort $(wildcard report/*.c))
PROGS      := $(B)/trustmilter-check $(B)/trustmilter-report
ifneq ($(DAEMON_SRC),)
PROGS      += $(B)/trustmilter
endif

UNIT_SRC   := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN   := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)
TOOL_SRC   := $(sort $(wildcard tests/tools/*.c))
TOOL_BIN   := $(TOOL_SRC:tests/tools/%.c=$(B)/tools/%)
FUZZ_SRC   := $(sort $(wildcard tests/fuzz/fuzz_*.c))

.PHONY: all progs check test fuzz fuzz-build bench check-load install clean deps demo deb
all: $(PROGS) $(UNIT_BIN) $(TOOL_BIN)
progs: $(PROGS)

HDRS       := $(wildcard policy/*.h stats/*.h feedback/*.h milter/*.h check/*.h report/*.h)

$(B)/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(LIB): $(POLICY_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(STATS_LIB): $(STATS_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(FEEDBACK_LIB): $(FEEDBACK_OBJ)
	@rm -f $@
	ar rcs $@ $^

# stats/ builds on policy/ (buf, conf): libtmstats.a comes first
$(B)/trustmilter-check: $(CHECK_SRC:%.c=$(B)/%.o) $(STATS_LIB) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(STATS_LIBS) $(POLICY_LIBS)

# stats/feedingest calls the report parsers: libtmfeedback.a after libtmstats.a
$(B)/trustmilter-report: $(REPORT_SRC:%.c=$(B)/%.o) $(STATS_LIB) $(FEEDBACK_LIB) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(STATS_LIBS) $(POLICY_LIBS) $(FEEDBACK_LIBS)

$(B)/trustmilter: $(DAEMON_SRC:%.c=$(B)/%.o) $(STATS_LIB) $(FEEDBACK_LIB) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(STATS_LIBS) $(POLICY_LIBS) $(FEEDBACK_LIBS)

$(B)/tests/%: $(B)/tests/unit/%.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(POLICY_LIBS)

# the tests of stats/ and of the milter protocol layer (daemon code, not
# policy) link those in explicitly
$(B)/tests/test_store $(B)/tests/test_rollup: $(B)/tests/%: $(B)/tests/unit/%.o $(STATS_LIB) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(STATS_LIBS) $(POLICY_LIBS)

# the report parsers (feedback/) and their store (stats/feedstore)
FEEDBACK_TESTS := $(B)/tests/test_arf $(B)/tests/test_aggrep $(B)/tests/test_unpack $(B)/tests/test_feedstore
$(FEEDBACK_TESTS): $(B)/tests/%: $(B)/tests/unit/%.o $(STATS_LIB) $(FEEDBACK_LIB) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(STATS_LIBS) $(POLICY_LIBS) $(FEEDBACK_LIBS)

$(B)/tests/test_mproto: $(B)/tests/unit/test_mproto.o $(B)/milter/mproto.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(POLICY_LIBS)

$(B)/tools/nullmilter: $(B)/tests/tools/nullmilter.o $(B)/milter/engine.o $(B)/milter/mproto.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(POLICY_LIBS)

$(B)/tools/store-load $(B)/tools/store-gen $(B)/tools/audit-bench: $(B)/tools/%: $(B)/tests/tools/%.o $(STATS_LIB) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(STATS_LIBS) $(POLICY_LIBS)

$(B)/tools/%: $(B)/tests/tools/%.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(POLICY_LIBS)

# libFuzzer targets: clang, ASan+UBSan, the policy core rebuilt with clang.
FB := build-fuzz
FUZZ_CFLAGS := -std=gnu11 -g -O1 -fsanitize=fuzzer-no-link,address,undefined -Ipolicy -Istats -Ifeedback $(PKG_CFLAGS) \
               -DTM_VERSION='"$(VERSION)"' -DTM_SYSCONFDIR='"$(SYSCONFDIR)"' -Wall -Wextra -Werror
FUZZ_OBJ := $(POLICY_SRC:%.c=$(FB)/%.o)
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=$(FB)/%)
$(FB)/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -c -o $@ $<
$(FB)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_OBJ)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(POLICY_LIBS)
$(FB)/fuzz_milter: tests/fuzz/fuzz_milter.c $(FB)/milter/mproto.o $(FUZZ_OBJ)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(POLICY_LIBS)
FUZZ_FEEDBACK_OBJ := $(FEEDBACK_SRC:%.c=$(FB)/%.o)
$(FB)/fuzz_arf $(FB)/fuzz_aggrep $(FB)/fuzz_unpack: $(FB)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_FEEDBACK_OBJ) $(FUZZ_OBJ)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(POLICY_LIBS) $(FEEDBACK_LIBS)
fuzz-build: $(FUZZ_BIN)

FUZZ_SECONDS ?= 60
fuzz: fuzz-build
	@for f in $(FUZZ_BIN); do n=$$(basename $$f); mkdir -p $(FB)/corpus/$$n; \
	  echo "== $$n ($(FUZZ_SECONDS)s)"; \
	  $$f -max_total_time=$(FUZZ_SECONDS) $(FB)/corpus/$$n $$(test -d tests/fuzz/seeds/$$n && echo tests/fuzz/seeds/$$n) 2>&1 | tail -2 || exit 1; done

# install-deps sets: test for make check, demo for make demo, deb for make deb
deps:
	contrib/install-deps test

# the three builds use every core (JOBS); the tests run one script at a time
JOBS ?= $(shell nproc 2>/dev/null || echo 1)
check: deps
	$(MAKE) -j$(JOBS) all
	$(MAKE) -j$(JOBS) all SAN=1
	$(MAKE) -j$(JOBS) fuzz-build
	tests/run-tests

test: check

demo:
	contrib/install-deps demo
	$(MAKE) all
	contrib/demo

bench: all
	tests/bench/run

# Load: zero lost messages and zero milter errors in Postfix's log
# (LOAD_MESSAGES, LOAD_SESSIONS override the counts).
check-load: all
	tests/bench/compare --load

# The systemd unit names /usr/sbin/trustmilter (the Debian package's path);
# installed elsewhere it is rewritten for SBINDIR.
install: progs
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man1 \
	           $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(SYSCONFDIR) \
	           $(DESTDIR)$(UNITDIR) $(DESTDIR)$(TMPFILESDIR) $(DESTDIR)$(SYSUSERSDIR) \
	           $(DESTDIR)$(DOCDIR)/examples
	install -m 755 $(B)/trustmilter-check $(B)/trustmilter-report $(DESTDIR)$(BINDIR)/
	if [ -f $(B)/trustmilter ]; then install -m 755 $(B)/trustmilter $(DESTDIR)$(SBINDIR)/; fi
	install -m 755 contrib/trustmilter-dmarc-send $(DESTDIR)$(SBINDIR)/
	for m in man/*.1; do [ -f "$$m" ] && install -m 644 $$m $(DESTDIR)$(MANDIR)/man1/; done; true
	for m in man/*.5; do [ -f "$$m" ] && install -m 644 $$m $(DESTDIR)$(MANDIR)/man5/; done; true
	for m in man/*.8; do [ -f "$$m" ] && install -m 644 $$m $(DESTDIR)$(MANDIR)/man8/; done; true
	[ -f $(DESTDIR)$(SYSCONFDIR)/trustmilter.conf ] || install -m 644 conf/trustmilter.conf $(DESTDIR)$(SYSCONFDIR)/
	sed 's|/usr/sbin/trustmilter|$(SBINDIR)/trustmilter|g; s|/etc/trustmilter/|$(SYSCONFDIR)/|g' \
	    contrib/trustmilter.service >$(DESTDIR)$(UNITDIR)/trustmilter.service
	chmod 644 $(DESTDIR)$(UNITDIR)/trustmilter.service
	install -m 644 contrib/trustmilter.tmpfiles $(DESTDIR)$(TMPFILESDIR)/trustmilter.conf
	install -m 644 contrib/trustmilter.sysusers $(DESTDIR)$(SYSUSERSDIR)/trustmilter.conf
	install -m 644 README.md $(wildcard docs/*.md) $(DESTDIR)$(DOCDIR)/
	install -m 644 contrib/trustmilter-dmarc-report.service contrib/trustmilter-dmarc-report.timer \
	    $(DESTDIR)$(UNITDIR)/
	for f in contrib/*.snippet contrib/*.cron; do \
	  install -m 644 $$f $(DESTDIR)$(DOCDIR)/examples/; done

# The Debian package (debian/): dpkg-buildpackage writes to the parent
# directory; the files are moved here. debian/rules builds in debian/build,
# so build/ and build-asan/ are left alone.
deb:
	contrib/install-deps deb
	dpkg-buildpackage -us -uc -b
	v=$$(dpkg-parsechangelog -S Version) && \
	for f in ../trustmilter_$${v}_*.deb ../trustmilter-dbgsym_$${v}_*.deb \
	         ../trustmilter_$${v}_*.buildinfo ../trustmilter_$${v}_*.changes; do \
	  if [ -f "$$f" ]; then mv "$$f" .; fi; done
	debian/rules clean
	ls trustmilter_*.deb

clean:
	rm -rf build build-asan build-fuzz
