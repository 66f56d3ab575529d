#!/bin/sh
# Installs everything relaymail needs to build and to run its tests on
# Debian 12: the libraries it links, the tools the tests drive, and the
# npm packages (into tests/node_modules, ignored by git).
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	SUDO="sudo"
fi

build_pkgs="build-essential clang pkg-config libcurl4-openssl-dev
	libmbedtls-dev libcjson-dev libidn2-dev libsodium-dev"
test_pkgs="libcmocka-dev python3 python3-botocore openssl postfix dovecot-core
	valgrind ca-certificates python3-dkim python3-pytest cmake
	libclang-rt-14-dev python3-venv python3-pip python3-setuptools man-db"
# make bench: the peers it measures against (Postfix's smtp-source and
# smtp-sink, msmtp, curl, GMime 3 for bench/gmime_build.c, OpenSSL for
# bench/tls_sink.c) and GNU time.
bench_pkgs="postfix msmtp curl libgmime-3.0-dev libssl-dev python3 time"

# A machine may already have a Node.js with its own npm (which conflicts
# with Debian's npm package): Debian's are installed only where missing.
command -v node >/dev/null 2>&1 || test_pkgs="$test_pkgs nodejs"
command -v npm >/dev/null 2>&1 || test_pkgs="$test_pkgs npm"

# The tests start private Postfix and Dovecot instances on their own
# ports and folders; system instances are not needed, so stop them.
stop_service() {
	if command -v systemctl >/dev/null 2>&1 &&
		systemctl is-active --quiet "$1" 2>/dev/null; then
		$SUDO systemctl disable --now "$1" || true
	elif command -v service >/dev/null 2>&1; then
		$SUDO service "$1" stop >/dev/null 2>&1 || true
	fi
}

if [ -z "${RM_SKIP_APT:-}" ]; then
	export DEBIAN_FRONTEND=noninteractive
	$SUDO apt-get update -q
	# Postfix asks which configuration to install; the tests run their own
	# private instance, so the system one is left unconfigured.
	echo "postfix postfix/main_mailer_type select No configuration" |
		$SUDO debconf-set-selections
	# shellcheck disable=SC2086
	$SUDO apt-get install -y -q --no-install-recommends \
		$build_pkgs $test_pkgs $bench_pkgs
	stop_service postfix
	stop_service dovecot
fi

if [ -z "${RM_SKIP_NPM:-}" ]; then
	cd "$top/tests"
	npm ci --no-audit --no-fund --loglevel=error
	# The Node peers of make bench (nodemailer, @sendgrid/mail).
	if [ -f "$top/bench/package-lock.json" ]; then
		cd "$top/bench"
		npm ci --no-audit --no-fund --loglevel=error
	fi
fi
