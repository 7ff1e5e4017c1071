# proc.sh: /proc helpers shared by the functional tests and the bench
# (bash): a process's state and command line, whether it is alive, its
# children and descendants, and the processes carrying a tag in their
# environment.  Read with builtins, so that a scan does not find itself.
#
# Sourced by tests/functional/lib.sh and bench/lib.sh.  Defines functions
# only: sourcing it runs nothing and sets no variable.

# proc_state PID: the one-letter state (R S D Z T …), empty when gone.
proc_state()
{
	local stat rest
	read -r stat 2>/dev/null <"/proc/$1/stat" || return 1
	rest=${stat##*) }
	echo "${rest%% *}"
}

# alive PID: true while PID exists and is not a zombie.
alive()
{
	local s
	s=$(proc_state "$1") || return 1
	[ -n "$s" ] && [ "$s" != Z ] && [ "$s" != X ]
}

# proc_cmdline PID: its command line, spaces between arguments.
proc_cmdline()
{
	local -a args=()
	mapfile -d '' args 2>/dev/null <"/proc/$1/cmdline" || return 1
	echo "${args[*]}"
}

# proc_has_env PID NAME VALUE: true when NAME=VALUE is in the environment
# PID was started with.
proc_has_env()
{
	local -a env=()
	mapfile -d '' env 2>/dev/null <"/proc/$1/environ" || return 1
	case " ${env[*]} " in
	*" $2=$3 "*) return 0 ;;
	esac
	return 1
}

# proc_snapshot: PROC_PPID[pid]=ppid for every process now, read without
# forking.
proc_snapshot()
{
	local d p stat rest
	declare -gA PROC_PPID=()
	for d in /proc/[0-9]*; do
		p=${d#/proc/}
		read -r stat 2>/dev/null <"$d/stat" || continue
		rest=${stat##*) }
		rest=${rest#* }
		PROC_PPID[$p]=${rest%% *}
	done
}

# children_of PID: direct children, one per line.
children_of()
{
	local p
	proc_snapshot
	for p in "${!PROC_PPID[@]}"; do
		[ "${PROC_PPID[$p]}" = "$1" ] && echo "$p"
	done
	return 0
}

# descendants PID...: every descendant (not the pids themselves), one per
# line, breadth first (one /proc scan).
descendants()
{
	local -a queue=("$@")
	local -A kids=()
	local p c
	proc_snapshot
	for c in "${!PROC_PPID[@]}"; do
		kids[${PROC_PPID[$c]}]+=" $c"
	done
	while [ ${#queue[@]} -gt 0 ]; do
		p=${queue[0]}
		queue=("${queue[@]:1}")
		# An empty pid has no children (and is no valid key).
		[ -n "$p" ] || continue
		for c in ${kids[$p]:-}; do
			echo "$c"
			queue+=("$c")
		done
	done
}

# proc_tagged NAME VALUE: "pid cmdline" of every live process with
# NAME=VALUE in its environment, except this shell (and the subshell
# running the scan).
proc_tagged()
{
	local d p
	for d in /proc/[0-9]*; do
		p=${d#/proc/}
		[ "$p" = $$ ] && continue
		[ "$p" = "$BASHPID" ] && continue
		proc_has_env "$p" "$1" "$2" || continue
		alive "$p" && echo "$p $(proc_cmdline "$p")"
	done
}
