#!/bin/bash
# t_hardening: the binaries the Makefile builds carry Debian's hardening
# (PIE, full RELRO with BIND_NOW, stack protector, FORTIFY_SOURCE), read
# from the ELF files themselves. Fails when a flag is lost from the
# Makefile or when the build was made with HARDEN=0.
. "$(dirname "$0")/lib.sh"

command -v readelf >/dev/null || fail "readelf (binutils) is missing"
for bin in "$BUILD/baton" "$BUILD/demoapp" "$BUILD/loadcheck"; do
	[ -x "$bin" ] || fail "$bin is not built"
	name=${bin##*/}
	readelf -h "$bin" | grep -q 'Type:.*DYN' || fail "$name is not PIE"
	readelf -lW "$bin" | grep -q GNU_RELRO || fail "$name has no RELRO"
	readelf -dW "$bin" | grep -qE 'BIND_NOW|FLAGS.*NOW' ||
		fail "$name is not linked with -z now"
	note "$name: PIE, RELRO, BIND_NOW"
done
# Only baton is checked for these two: a file that has no fixed-size local
# buffer or no fortifiable call would have nothing to show.
syms=$(readelf -sW --dyn-syms "$BUILD/baton")
grep -q '__stack_chk_fail' <<<"$syms" || fail "baton: no stack protector"
if grep -q '__asan_init' <<<"$syms"; then
	# make asan: the Makefile leaves FORTIFY to ASan, which checks more.
	note "baton: stack protector; AddressSanitizer build, no FORTIFY"
else
	grep -qE '__[a-z_]+_chk' <<<"$syms" ||
		fail "baton: no FORTIFY_SOURCE call"
	note "baton: stack protector, $(grep -oE '__[a-z_]+_chk' <<<"$syms" |
		sort -u | wc -l) fortified functions"
fi
pass
