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
test_pkgs="libcmocka-dev python3 openssl postfix dovecot-core
	nodejs npm valgrind ca-certificates python3-dkim"

if [ -z "${RM_SKIP_APT:-}" ]; then
	export DEBIAN_FRONTEND=noninteractive
	$SUDO apt-get update -q
	# Postfix asks which configuration to install; the tests run their own
	# private instance, so the system one is left unconfigured.
	echo "postfix postfix/main_mailer_type select No configuration" |
		$SUDO debconf-set-selections
	# shellcheck disable=SC2086
	$SUDO apt-get install -y -q --no-install-recommends \
		$build_pkgs $test_pkgs
fi

if [ -z "${RM_SKIP_NPM:-}" ]; then
	cd "$top/tests"
	npm ci --no-audit --no-fund --loglevel=error
fi
