# Shared helpers for the integration scripts (sourced, not run).
#
# A script calls it_init NAME first. That gives it a fresh work folder
# ($work, under build/it/), the paths of the programs and tools, and a
# trap that runs every at_exit command when the script ends. Each check
# prints "ok - NAME" or "not ok - NAME" (tests/run.sh counts those), and
# it_finish exits non-zero when any check failed.

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
bin="$top/build/bin"
itlib="$top/tests/integration/lib"
# Debian's Python: the first python3 on PATH may be another build.
py=/usr/bin/python3
export NODE_PATH="$top/tests/node_modules"

it_failed=0
it_count=0
it_cleanups=()

it_init() {
	work="$top/build/it/$1"
	rm -rf "$work"
	mkdir -p "$work"
	trap it_cleanup EXIT
	trap 'exit 130' INT TERM
}

at_exit() {
	it_cleanups+=("$*")
}

it_cleanup() {
	local i
	for ((i = ${#it_cleanups[@]} - 1; i >= 0; i--)); do
		eval "${it_cleanups[$i]}" >/dev/null 2>&1 || true
	done
}

ok() {
	it_count=$((it_count + 1))
	echo "ok - $1"
}

not_ok() {
	it_count=$((it_count + 1))
	it_failed=$((it_failed + 1))
	echo "not ok - $1"
}

# check NAME COMMAND...: runs the command; its output is shown on failure.
# The command runs in a subshell: it must not start background servers.
check() {
	local name=$1 out status
	shift
	out=$("$@" 2>&1)
	status=$?
	if [ "$status" -eq 0 ]; then
		ok "$name"
	else
		not_ok "$name"
		printf '%s\n' "$out" | sed 's/^/#   /' | tail -n 40
		echo "#   (exit status $status)"
	fi
	return "$status"
}

# check_status NAME WANT COMMAND...: passes when the command exits WANT.
check_status() {
	local name=$1 want=$2 out status
	shift 2
	out=$("$@" 2>&1)
	status=$?
	last_output=$out
	if [ "$status" -eq "$want" ]; then
		ok "$name"
		return 0
	fi
	not_ok "$name"
	printf '%s\n' "$out" | sed 's/^/#   /' | tail -n 40
	echo "#   (exit status $status, wanted $want)"
	return 1
}

# check_grep NAME PATTERN TEXT: passes when TEXT matches the ERE PATTERN.
check_grep() {
	if printf '%s\n' "$3" | grep -Eq -- "$2"; then
		ok "$1"
	else
		not_ok "$1"
		echo "#   no match for /$2/ in:"
		printf '%s\n' "$3" | sed 's/^/#   /' | tail -n 20
	fi
}

it_finish() {
	if [ "$it_count" -eq 0 ]; then
		not_ok "the script ran at least one check"
	fi
	[ "$it_failed" -eq 0 ]
	exit $?
}

# Waits (up to about 30 s) until the file exists and is not empty.
wait_for_file() {
	local i
	for ((i = 0; i < ${2:-300}; i++)); do
		[ -s "$1" ] && return 0
		sleep 0.1
	done
	return 1
}

# Waits until something accepts connections on 127.0.0.1:PORT.
wait_for_port() {
	local i
	for ((i = 0; i < ${2:-300}; i++)); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# Stops a process this script started, and waits for it to go.
stop_pid() {
	local pid=$1 i
	kill -TERM "$pid" 2>/dev/null || return 0
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
}

# start_sink DIR [ARGS...]: starts relaymail-sink on a free port and sets
# sink_pid and sink_port.
start_sink() {
	local dir=$1
	shift
	rm -f "$dir.port"
	"$bin/relaymail-sink" --dir "$dir" --port 0 --port-file "$dir.port" \
		"$@" >"$dir.log" 2>&1 </dev/null &
	sink_pid=$!
	at_exit stop_pid "$sink_pid"
	if ! wait_for_file "$dir.port"; then
		echo "# relaymail-sink did not start:"
		sed 's/^/#   /' "$dir.log"
		return 1
	fi
	sink_port=$(cat "$dir.port")
}

# start_fake PROVIDER KEY [DIR [OPTION...]]: starts the fake HTTP provider
# (tests/fakes/fake_provider.py) in $work/DIR (default PROVIDER), with
# the OPTIONs added to its command line, and sets port.
start_fake() {
	local provider=$1 key=$2 dir="$work/${3:-$1}"
	shift $(($# < 3 ? $# : 3))
	mkdir -p "$dir"
	"$py" "$top/tests/fakes/fake_provider.py" --provider "$provider" \
		--dir "$dir" --key "$key" "$@" 2>"$dir.log" &
	at_exit stop_pid "$!"
	if ! wait_for_file "$dir/port"; then
		echo "# the $provider fake did not start:"
		sed 's/^/#   /' "$dir.log"
		return 1
	fi
	port=$(cat "$dir/port")
}

# find_case DIR NAME: waits for the message in DIR/*.eml whose header
# "X-Test-Case: NAME" marks it, and prints its path.
find_case() {
	local i file
	for ((i = 0; i < 300; i++)); do
		file=$(grep -lE "^X-Test-Case: $2"$'\r?$' "$1"/*.eml \
			2>/dev/null | head -n 1)
		[ -n "$file" ] && { echo "$file"; return 0; }
		sleep 0.1
	done
	return 1
}
