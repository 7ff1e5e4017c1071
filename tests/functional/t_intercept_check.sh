#!/bin/bash
# t_intercept_check: what intercept_bind refuses, and how loudly. `baton -t`
# accepts it on this kernel (the feature probe passes); on a kernel made to
# look older (a seccomp filter failing one feature) -t and the start fail
# naming the feature and the Linux version it needs; a baton nested in an
# intercepted worker refuses it at -t and at start, naming why (a process
# can have only one seccomp notifier); `baton -s` signals all the same on
# such a kernel, and a master started there refuses a reload that turns
# intercept_bind on with the answer it probed at start; and on x86_64 a
# worker that makes a system call of another ABI (int $0x80, i386) is
# killed, with a log line saying so, instead of escaping the filter.
. "$(dirname "$0")/lib.sh"
. "$FT_DIR/intercept_lib.sh"

port=$(pick_port)
write_conf "$T/inner.ini" <<EOF2
[app]
command = /bin/true
intercept_bind = yes
ready = listen
[listen http]
address = 127.0.0.1:$port
EOF2
"${BATON_CMD[@]}" -t -c "$T/inner.ini" 2>"$T/t.err" ||
	fail "baton -t refused intercept_bind: $(cat "$T/t.err")"
grep -q 'configuration is valid' "$T/t.err" || fail "no 'valid' from -t"

# Nested: the worker runs `baton -t` on the same file, under our filter.
cat >"$T/nested.sh" <<EOF2
#!/bin/sh
"$BUILD/baton" -t -c "$T/inner.ini" >"$T/nested.out" 2>&1
echo "rc=\$?" >>"$T/nested.out"
exec sleep 60
EOF2
chmod +x "$T/nested.sh"
port2=$(pick_port)
write_conf "$T/outer.ini" <<EOF2
[app]
command = $T/nested.sh
intercept_bind = yes
ready = delay:1s
ready_timeout = 10s
[listen http]
address = 127.0.0.1:$port2
EOF2
baton_start "$T/outer.ini"
wait_for "the nested check" 10 grep -q '^rc=' "$T/nested.out"
grep -q '^rc=1$' "$T/nested.out" ||
	fail "nested baton -t did not exit 1: $(cat "$T/nested.out")"
grep -qF "inner.ini: intercept_bind: cannot install the seccomp filter: this process already runs under a seccomp notifier (baton's own" \
	"$T/nested.out" || fail "nested: unclear message: $(cat "$T/nested.out")"
note "nested: $(head -n 1 "$T/nested.out")"
baton_signal QUIT
baton_wait_exit 30 || fail "baton did not exit 0 after QUIT"

# An older kernel, as seen from baton: a seccomp filter of ours (plain
# errno returns, no notifier) makes one feature fail the way a kernel
# without it does. -t and the start must both name it and its version.
command -v cc >/dev/null 2>&1 || fail "cc not found (build-essential)"
cat >"$T/oldkernel.c" <<'EOF2'
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define S(x) ((struct sock_filter)x)
#define LD_NR S(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, \
    offsetof(struct seccomp_data, nr)))
#define ARG(n) S(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, \
    offsetof(struct seccomp_data, args) + 8 * (n)))
#define JNE(k, skip) S(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (k), 0, (skip)))
#define RET(v) S(BPF_STMT(BPF_RET | BPF_K, (v)))

/* oldkernel FEATURE COMMAND...: run COMMAND as if FEATURE were missing. */
int
main(int argc, char **argv)
{
	struct sock_filter f[8];
	struct sock_fprog prog = { 0, f };
	unsigned nr = __NR_ioctl, arg = 1, val, err = EINVAL;

	if (argc < 3)
		return 2;
	if (strcmp(argv[1], "user_notif") == 0) {
		nr = __NR_seccomp, arg = 0, val = SECCOMP_GET_ACTION_AVAIL;
		err = EOPNOTSUPP;
	} else if (strcmp(argv[1], "pidfd_getfd") == 0) {
		nr = __NR_pidfd_getfd, arg = 6, val = 0, err = ENOSYS;
	} else if (strcmp(argv[1], "continue") == 0) {
		val = (unsigned)SECCOMP_IOCTL_NOTIF_SEND;
	} else if (strcmp(argv[1], "addfd") == 0) {
		val = (unsigned)SECCOMP_IOCTL_NOTIF_ADDFD;
	} else {
		return 2;
	}
	f[0] = LD_NR;
	f[1] = JNE(nr, 4);
	/* args[6] does not exist: for a whole call, compare nr again. */
	f[2] = arg < 6 ? ARG(arg) : LD_NR;
	f[3] = JNE(arg < 6 ? val : nr, 2);
	f[4] = RET(SECCOMP_RET_ERRNO | err);
	f[5] = RET(SECCOMP_RET_ALLOW);
	f[6] = RET(SECCOMP_RET_ALLOW);
	prog.len = 7;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1 ||
	    syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) == -1) {
		perror("oldkernel: seccomp");
		return 1;
	}
	execvp(argv[2], argv + 2);
	perror(argv[2]);
	return 127;
}
EOF2
cc -o "$T/oldkernel" "$T/oldkernel.c" || fail "cannot compile oldkernel.c"
for f in user_notif:"seccomp user notification (SECCOMP_RET_USER_NOTIF) (needs Linux 5.0;" \
	pidfd_getfd:"pidfd_getfd (needs Linux 5.6;" \
	continue:"SECCOMP_USER_NOTIF_FLAG_CONTINUE (needs Linux 5.5;" \
	addfd:"SECCOMP_IOCTL_NOTIF_ADDFD with SECCOMP_ADDFD_FLAG_SETFD (needs Linux 5.9;"; do
	want="inner.ini: intercept_bind: this kernel lacks ${f#*:} this is $(uname -r))"
	"$T/oldkernel" "${f%%:*}" "$BUILD/baton" -t -c "$T/inner.ini" \
		>"$T/old.out" 2>&1 && fail "${f%%:*}: baton -t passed"
	grep -qF "$want" "$T/old.out" ||
		fail "${f%%:*}: -t said: $(cat "$T/old.out")"
	"$T/oldkernel" "${f%%:*}" "$BUILD/baton" -c "$T/inner.ini" \
		>"$T/old.out" 2>&1 && fail "${f%%:*}: baton started"
	grep -qF "$want" "$T/old.out" ||
		fail "${f%%:*}: the start said: $(cat "$T/old.out")"
	note "without ${f%%:*}: $(cat "$T/old.out")"
done

# Signalling needs no seccomp: on that older kernel `baton -s` still
# signals a master running on this one (it used to refuse, probing the
# kernel as -t does).
port4=$(pick_port)
write_conf "$T/sig.ini" <<EOF2
[baton]
pidfile = $T/sig.pid
[app]
command = /bin/sleep 60
intercept_bind = yes
ready = delay:1s
ready_timeout = 10s
[listen http]
address = 127.0.0.1:$port4
EOF2
: >"$T/baton.log"
baton_start "$T/sig.ini"
"$T/oldkernel" user_notif "$BUILD/baton" -c "$T/sig.ini" -s reload \
	>"$T/sig.out" 2>&1 ||
	fail "baton -s refused without seccomp: $(cat "$T/sig.out")"
wait_gen_active 2 10
note "baton -s reload on an older kernel: generation 2 started"
baton_signal QUIT
baton_wait_exit 30 || fail "baton did not exit 0 after QUIT (-s part)"

# The probe runs once, at start: a master that started on the older kernel
# with nothing intercepted refuses a reload turning intercept_bind on with
# the answer it got then, and keeps serving.
port5=$(pick_port)
conf_reload()
{
	write_conf "$T/reload.ini" <<-EOF2
	[app]
	command = /bin/sleep 60
	intercept_bind = $1
	ready = none
	[listen http]
	address = 127.0.0.1:$port5
	EOF2
}
conf_reload no
: >"$T/baton.log"
saved_cmd=("${BATON_CMD[@]}")
BATON_CMD=("$T/oldkernel" user_notif "${BATON_CMD[@]}")
baton_start "$T/reload.ini"
BATON_CMD=("${saved_cmd[@]}")
conf_reload yes
baton_signal HUP
wait_log "$T/baton.log" "reload: $T/reload\.ini: intercept_bind: this kernel lacks seccomp user notification \(SECCOMP_RET_USER_NOTIF\) \(needs Linux 5\.0; this is [^)]*\); keeping the running generation" 10
[ "$(count_log "$T/baton.log" 'generation 2')" = 0 ] ||
	fail "a reload turning intercept_bind on started a generation"
note "$(grep -m1 -oE 'reload: .*intercept_bind: .*' "$T/baton.log")"
baton_signal QUIT
baton_wait_exit 30 || fail "baton did not exit 0 after QUIT (reload part)"

if [ "$(uname -m)" = x86_64 ]; then
	# getpid() through the i386 entry point; 0 when the kernel runs it.
	cat >"$T/i386.c" <<-'EOF2'
	#include <unistd.h>
	int
	main(void)
	{
		long r;

		__asm__ volatile("int $0x80" : "=a"(r) : "a"(20L));
		if (r <= 0)
			return 1;
		pause();
		return 0;
	}
	EOF2
	cc -o "$T/i386" "$T/i386.c" || fail "cannot compile $T/i386.c"
	if timeout -s KILL 2 "$T/i386"; [ $? = 137 ]; then
		: >"$T/baton.log"
		port3=$(pick_port)
		write_conf "$T/abi.ini" <<-EOF2
		[app]
		command = $T/i386
		intercept_bind = yes
		ready = delay:2s
		ready_timeout = 5s
		[listen http]
		address = 127.0.0.1:$port3
		EOF2
		"${BATON_CMD[@]}" -c "$T/abi.ini" >>"$T/baton.log" 2>&1 &
		BATON_PID=$!
		track "$BATON_PID"
		wait_exit "$BATON_PID" 20
		rc=$?
		[ "$rc" = 1 ] || fail "baton with an i386 worker exited $rc"
		grep -qE 'generation 1 worker 0 pid [0-9]+: thread [0-9]+ made a system call of another ABI \(audit arch 0x40000003, number 20\): intercept_bind only supports x86_64 programs; killing it' \
			"$T/baton.log" || fail "no clear line for the i386 call"
		grep -qE 'worker 0 pid [0-9]+: killed by signal 9' "$T/baton.log" ||
			fail "the i386 caller was not killed"
		note "$(grep -m1 -oE 'thread [0-9]+ made a system call.*' "$T/baton.log")"
	else
		note "this kernel does not run int \$0x80: i386 part skipped"
	fi
fi
pass "-t passes; older kernels and nesting refused with a reason;" \
    "-s signals without seccomp; reload refused from the start's probe;" \
    "foreign ABI killed, logged"
