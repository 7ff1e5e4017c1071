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
	cppcheck shellcheck clang-format

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

BATON_MODULES = log parse address config_file config_keys config_command \
	config credentials listener pidfile signals childenv upgrade \
	notify master_state master_upgrade master_systemd \
	control control_server master_control \
	seccomp seccomp_probe drain intercept \
	worker generation readiness sdnotify master
BATON_OBJS = $(BATON_MODULES:%=$(BUILD)/src/%.o) $(BUILD)/src/main.o
# The config modules, as one group: config needs every one of them.
CONFIG_OBJS = config config_file config_keys config_command address parse
# batonctl: the client half of control.c, and the config modules for -c.
BATONCTL_OBJS = $(addprefix $(BUILD)/src/,batonctl.o control.o log.o \
	$(addsuffix .o,$(CONFIG_OBJS)))

# Unit tests: one Check program per pure module, linking only what it tests.
UNIT_TESTS = check_address check_config check_childenv check_sdnotify \
	check_parse check_seccomp check_drain check_intercept check_control \
	check_master_state check_upgrade check_pidfile \
	check_listener check_readiness check_worker check_generation
check_control_OBJS = control parse log
check_address_OBJS = address parse
check_config_OBJS = $(CONFIG_OBJS) credentials
check_childenv_OBJS = childenv $(CONFIG_OBJS)
check_parse_OBJS = parse
check_sdnotify_OBJS = sdnotify parse
check_seccomp_OBJS = seccomp seccomp_probe log
check_drain_OBJS = drain seccomp address parse log
check_intercept_OBJS = intercept drain seccomp seccomp_probe address parse log
check_master_state_OBJS = master_state log
check_upgrade_OBJS = upgrade listener signals address parse log
check_pidfile_OBJS = pidfile parse
check_listener_OBJS = listener $(CONFIG_OBJS) log
check_readiness_OBJS = readiness $(CONFIG_OBJS) log
check_worker_OBJS = worker readiness intercept drain seccomp seccomp_probe \
	childenv credentials signals $(CONFIG_OBJS) log
check_generation_OBJS = generation $(check_worker_OBJS)

TOOLS = demoapp loadcheck

.PHONY: all deps check unit functional demo asan valgrind lint format \
	format-check \
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

# The shell scripts of tests/, bench/ and .ci/: every *.sh (the sourced
# libraries have no shebang) and every file whose first line is a sh or
# bash shebang, so that a new script is checked without being listed here.
# shellcheck reads its project-wide choices from .shellcheckrc.
SH_SCRIPTS = $(shell find tests bench .ci -path bench/out -prune -o -type f \
	\( -name '*.sh' -o -exec sh -c \
	'head -n 1 "$$1" | grep -Eq "^\#!.*[/ ](ba)?sh( |$$)"' _ {} \; \) \
	-print | sort)

lint:
	mandoc -Tlint -Wwarning man/*.[0-9]
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability \
		--suppress=missingIncludeSystem -Isrc src tests/tools
	shellcheck $(SH_SCRIPTS)

# Every C file we write, formatted by the checked-in .clang-format.
FORMAT_FILES = $(wildcard src/*.[ch] tests/unit/*.[ch] tests/tools/*.c \
	bench/*.c)

format:
	clang-format -i $(FORMAT_FILES)

# CI: fails, naming the file and line, when `make format` would change one.
format-check:
	clang-format --dry-run --Werror $(FORMAT_FILES)

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
