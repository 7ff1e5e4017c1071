#!/bin/bash
# t_conf_examples: the configuration files we ship pass `baton -t`, with
# only their machine paths moved into the test's directory: conf/baton.ini
# (every key, as a deployment would write it) and conf/demo.ini (what
# `make demo` runs, with its @PLACEHOLDERS@ filled in as demo.sh does).
. "$(dirname "$0")/lib.sh"

conf=$(cd "$(dirname "$0")/../../conf" && pwd)
id www-data >/dev/null 2>&1 ||
	skip "no www-data user here (conf/baton.ini names it; Debian has it)"
sed -e "s|/run/baton|$T|g" -e "s|/run/app|$T|g" -e "s|/srv/app|$T|g" \
	"$conf/baton.ini" >"$T/baton.ini"
"$BUILD/baton" -t -c "$T/baton.ini" >"$T/t.out" 2>&1 ||
	fail "conf/baton.ini: $(cat "$T/t.out")"
note "conf/baton.ini: $(cat "$T/t.out")"
sed -e "s|@RUN@|$T|g" -e "s|@BUILD@|$BUILD|g" -e "s|@PORT@|$(pick_port)|g" \
	"$conf/demo.ini" >"$T/demo.ini"
"$BUILD/baton" -t -c "$T/demo.ini" >"$T/d.out" 2>&1 ||
	fail "conf/demo.ini: $(cat "$T/d.out")"
note "conf/demo.ini: $(cat "$T/d.out")"
pass "both shipped files are valid"
