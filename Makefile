# baton: plain Makefile. Objects and binaries go to $(BUILD) so that the
# sanitizer build (make asan) lives beside the normal one.

PREFIX ?= /usr/local
DESTDIR ?=
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
BUILD ?= build

# The one list of Debian packages the project needs, to build, to test and
# to run the demo. .ci/run installs through `make deps`, never by itself.
DEPS_PKGS = build-essential pkg-config libev-dev libinih-dev check mandoc \
	libjansson-dev \
	python3 procps psmisc iproute2 curl systemd \
	golang-go gunicorn \
	cppcheck

CC ?= cc
PKG_CONFIG ?= pkg-config
WARN = -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wformat=2 -Wvla
ifeq ($(CI),true)
WERROR ?= -Werror
endif
CFLAGS ?= -O2 -g
# Debian's hardening defaults (dpkg-buildflags with hardening=+all), on for
# every build: HARDEN=0 turns them off. FORTIFY needs optimisation and is
# left to ASan in the sanitizer build, which checks the same and more.
HARDEN ?= 1
ifeq ($(HARDEN),1)
HARDEN_CFLAGS = -fstack-protector-strong -fstack-clash-protection -fPIE \
	-Wformat -Werror=format-security
HARDEN_LDFLAGS = -pie -Wl,-z,relro -Wl,-z,now
ifneq ($(SANITIZE),1)
HARDEN_CFLAGS += -D_FORTIFY_SOURCE=2
endif
endif
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE -DBATON_VERSION='"$(VERSION)"' $(WARN) $(WERROR) $(HARDEN_CFLAGS) \
	$(CFLAGS) -MMD -MP
LDFLAGS += $(HARDEN_LDFLAGS)
INIH_CFLAGS = $(shell $(PKG_CONFIG) --cflags inih 2>/dev/null)
INIH_LIBS = $(shell $(PKG_CONFIG) --libs inih 2>/dev/null || echo -linih)
CHECK_CFLAGS = $(shell $(PKG_CONFIG) --cflags check 2>/dev/null)
CHECK_LIBS = $(shell $(PKG_CONFIG) --libs check 2>/dev/null || echo -lcheck)
JANSSON_CFLAGS = $(shell $(PKG_CONFIG) --cflags jansson 2>/dev/null)
JANSSON_LIBS = $(shell $(PKG_CONFIG) --libs jansson 2>/dev/null || echo -ljansson)
VERSION = 0.1.0
# libev ships no .pc file.
EV_LIBS = -lev

ifeq ($(SANITIZE),1)
ALL_CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
endif

BATON_MODULES = log address config listener pidfile signals childenv upgrade \
	notify master_state master_upgrade control master_control \
	intercept \
	worker generation readiness sdnotify master
BATON_OBJS = $(BATON_MODULES:%=$(BUILD)/src/%.o) $(BUILD)/src/main.o
# batonctl: the client half of control.c, and config.c for -c.
BATONCTL_OBJS = $(addprefix $(BUILD)/src/,batonctl.o control.o config.o \
	address.o log.o)

# Unit tests: one Check program per pure module, linking only what it tests.
UNIT_TESTS = check_address check_config check_childenv check_sdnotify \
	check_intercept check_control
check_control_OBJS = control log
check_address_OBJS = address
check_config_OBJS = config address
check_childenv_OBJS = childenv config address
check_sdnotify_OBJS = sdnotify
check_intercept_OBJS = intercept address log

TOOLS = demoapp loadcheck

.PHONY: all deps check unit functional demo asan valgrind lint format \
	install uninstall clean bench

all: $(BUILD)/baton $(BUILD)/batonctl $(TOOLS:%=$(BUILD)/%)

deps:
	@missing=""; for p in $(DEPS_PKGS); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | \
		grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	else echo "deps: all installed"; fi

$(BUILD)/src/%.o: src/%.c Makefile
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(INIH_CFLAGS) $(JANSSON_CFLAGS) -c -o $@ $<

$(BUILD)/tests/%.o: tests/%.c Makefile
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(CHECK_CFLAGS) $(JANSSON_CFLAGS) -Isrc -c -o $@ $<

$(BUILD)/baton: $(BATON_OBJS)
	$(CC) $(LDFLAGS) -o $@ $^ $(INIH_LIBS) $(JANSSON_LIBS) $(EV_LIBS)

$(BUILD)/batonctl: $(BATONCTL_OBJS)
	$(CC) $(LDFLAGS) -o $@ $^ $(INIH_LIBS) $(JANSSON_LIBS) $(EV_LIBS)

$(BUILD)/demoapp: $(BUILD)/tests/tools/demoapp.o
	$(CC) $(LDFLAGS) -o $@ $^

$(BUILD)/loadcheck: $(BUILD)/tests/tools/loadcheck.o
	$(CC) $(LDFLAGS) -pthread -o $@ $^

# The static Go server of the bind interception tests (golang-go). Not in
# TOOLS: `make all` must not need Go; the tests build it on first use too.
$(BUILD)/goserver: tests/tools/goserver/main.go
	@mkdir -p $(@D)
	cd tests/tools/goserver && GOCACHE=$(abspath $(BUILD))/gocache \
		CGO_ENABLED=0 go build -trimpath -o $(abspath $@) main.go

.SECONDEXPANSION:
$(UNIT_TESTS:%=$(BUILD)/%): $(BUILD)/%: $(BUILD)/tests/unit/%.o \
		$$(addprefix $(BUILD)/src/,$$(addsuffix .o,$$($$*_OBJS)))
	$(CC) $(LDFLAGS) -o $@ $^ $(CHECK_LIBS) $(INIH_LIBS) $(JANSSON_LIBS) \
		$(EV_LIBS)

unit: $(UNIT_TESTS:%=$(BUILD)/%)
	@fail=0; for t in $(UNIT_TESTS); do \
		CK_FORK=yes ./$(BUILD)/$$t || fail=1; \
	done; exit $$fail

functional: all
	@BUILD=$(BUILD) tests/functional/run

check: deps
	@$(MAKE) --no-print-directory unit functional

demo: deps
	@$(MAKE) --no-print-directory all
	@BUILD=$(BUILD) tests/tools/demo.sh

# The whole suite again with AddressSanitizer and UBSan.
asan:
	$(MAKE) BUILD=build-asan SANITIZE=1 check

valgrind: all
	@BUILD=$(BUILD) VALGRIND=1 tests/functional/run

lint:
	mandoc -Tlint -Wwarning man/*.[0-9]
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability \
		--suppress=missingIncludeSystem -Isrc src tests/tools

format:
	clang-format -i src/*.[ch] tests/unit/*.c tests/tools/*.c

bench: all
	@BUILD=$(BUILD) bench/run

install: $(BUILD)/baton $(BUILD)/batonctl
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(MANDIR)/man5
	install -m 0755 $(BUILD)/baton $(DESTDIR)$(SBINDIR)/baton
	install -m 0755 $(BUILD)/batonctl $(DESTDIR)$(SBINDIR)/batonctl
	install -m 0644 man/baton.8 $(DESTDIR)$(MANDIR)/man8/baton.8
	install -m 0644 man/batonctl.8 $(DESTDIR)$(MANDIR)/man8/batonctl.8
	install -m 0644 man/baton.ini.5 $(DESTDIR)$(MANDIR)/man5/baton.ini.5

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/baton $(DESTDIR)$(SBINDIR)/batonctl \
		$(DESTDIR)$(MANDIR)/man8/baton.8 \
		$(DESTDIR)$(MANDIR)/man8/batonctl.8 \
		$(DESTDIR)$(MANDIR)/man5/baton.ini.5

clean:
	rm -rf build build-asan

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
