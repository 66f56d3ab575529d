#!/bin/bash
# make install into a staging folder (DESTDIR, PREFIX=/usr), then use the
# staged copy only, as an outside project would: the samples built out of
# the tree with pkg-config and with CMake's find_package(relaymail), run
# against the staged shared library; the Python package installed with
# pip into a virtual environment; man pages; make uninstall.
source "$(dirname "$0")/lib/common.sh"

it_init 80-install
unset RELAYMAIL_URL RELAYMAIL_PASSWORD RELAYMAIL_OAUTH_TOKEN
stage="$work/stage"
usr="$stage/usr"
cc=${CC:-cc}

check "install: make install DESTDIR PREFIX=/usr" \
	make -C "$top" install DESTDIR="$stage" PREFIX=/usr
check "install: header, pkg-config file, CMake files, programs" \
	test -f "$usr/include/relaymail.h" -a \
	-f "$usr/lib/pkgconfig/relaymail.pc" -a \
	-f "$usr/lib/cmake/relaymail/relaymail-config.cmake" -a \
	-f "$usr/lib/cmake/relaymail/relaymail-config-version.cmake" -a \
	-x "$usr/bin/relaymail-sendmail" -a -x "$usr/bin/relaymail-send"
check_grep "install: librelaymail.so -> .so.0 -> .so.X.Y.Z" \
	'^librelaymail\.so\.0 librelaymail\.so\.[0-9]+\.[0-9]+\.[0-9]+$' \
	"$(readlink "$usr/lib/librelaymail.so") $(readlink "$usr/lib/librelaymail.so.0")"
check_grep "install: the library's soname is librelaymail.so.0" \
	'SONAME.*\[librelaymail\.so\.0\]' \
	"$(readelf -d "$usr/lib/librelaymail.so" 2>&1)"
api_pages=$(find "$top/docs/api" -name 'rm_*.md' | wc -l)
check_grep "install: one man page per docs/api page ($api_pages)" \
	"^$api_pages [1-9]" \
	"$(find "$usr/share/man/man3" -name 'rm_*.3' | wc -l) $api_pages"
# Every public function should have a page. A missing one is reported
# here as a note, not a failure, so a new function does not block others.
for fn in $(sed -n 's/^RM_EXTERN [^(]*[ *]\(rm_[a-z0-9_]*\)(.*/\1/p' \
	"$top/include/relaymail.h"); do
	[ -f "$top/docs/api/$fn.md" ] ||
		echo "# note: docs/api/$fn.md is missing (see docs/api/README.md)"
done
check "install: relaymail-sendmail(8) is installed" \
	test -s "$usr/share/man/man8/relaymail-sendmail.8"
check "man: rm_send(3) renders without troff warnings" \
	sh -c 'out=$(MANWIDTH=80 man --warnings -l "$1" 2>&1 >/dev/null);
		[ -z "$out" ] || { echo "$out"; exit 1; }
		MANWIDTH=80 man -l "$1" | grep -q "RETURN VALUE"' sh \
	"$usr/share/man/man3/rm_send.3"

# --- pkg-config, out of the tree -----------------------------------------
export PKG_CONFIG_PATH="$usr/lib/pkgconfig"
export PKG_CONFIG_SYSROOT_DIR="$stage"
out_dir="$work/outside"
mkdir -p "$out_dir" "$work/mail"
cp "$top"/examples/sample-*.c "$out_dir/"
check_grep "pkg-config: version is the header's" \
	"^$(sed -n 's/^#define RM_VERSION_STRING "\(.*\)"/\1/p' \
		"$top/include/relaymail.h")$" \
	"$(pkg-config --modversion relaymail)"
check_grep "pkg-config: flags point into the staged tree" \
	"-I$usr/include.*-L$usr/lib.*-lrelaymail" \
	"$(pkg-config --cflags --libs relaymail)"
# relaymail.h includes no dependency's header: their -I flags stay out.
check_grep "pkg-config: --cflags is relaymail's include folder alone" \
	"^-I$usr/include *\$" "$(pkg-config --cflags relaymail)"
check_grep "pkg-config: --static --libs lists the dependencies" \
	"-lrelaymail .*-lmbedtls.*-lcurl.*-lcjson.*-lidn2" \
	"$(pkg-config --static --libs relaymail)"

build_sample() {
	local name=$1
	(cd "$out_dir" &&
		$cc -std=c11 -Wall -Wextra -Werror \
			$(pkg-config --cflags relaymail) -o "$name" "$name.c" \
			$(pkg-config --libs relaymail) &&
		$cc $(pkg-config --cflags relaymail) -M "$name.c" |
			grep -q "$usr/include/relaymail.h")
}
for s in sample-smallest sample-attachments sample-failover; do
	check "pkg-config: $s builds out of tree against the stage" \
		build_sample "$s"
done

export LD_LIBRARY_PATH="$usr/lib"
check_grep "run: the sample uses the staged shared library" \
	"librelaymail\.so\.0 => $usr/lib/librelaymail\.so\.0" \
	"$(ldd "$out_dir/sample-smallest")"
check_status "run: sample-smallest without RELAYMAIL_URL fails" 1 \
	"$out_dir/sample-smallest" you@example.org
check_grep "run: and says to set RELAYMAIL_URL" '^set RELAYMAIL_URL' \
	"$last_output"
RELAYMAIL_URL="file://$work/mail" check_status \
	"run: sample-smallest sends through file://" 0 \
	"$out_dir/sample-smallest" you@example.org
printf 'a,b\n1,2\n' >"$work/table.csv"
RELAYMAIL_URL="file://$work/mail" check_status \
	"run: sample-attachments sends through file://" 0 \
	"$out_dir/sample-attachments" you@example.org "$work/table.csv"
check "run: both messages read back with Python's email package" \
	"$py" - "$work/mail" <<'PY'
import email, email.policy, glob, sys
msgs = [email.message_from_bytes(open(p, "rb").read(),
                                 policy=email.policy.default)
        for p in sorted(glob.glob(sys.argv[1] + "/*.eml"))]
assert len(msgs) == 2, len(msgs)
by = {m["Subject"]: m for m in msgs}
small = by["Hello from relaymail"]
assert small["To"].addresses[0].addr_spec == "you@example.org"
att = by["Monthly figures"]
names = sorted(p.get_filename() for p in att.iter_attachments())
assert names == ["figures.csv", "table.csv"], names
assert any(p["Content-ID"] == "<logo@example.com>" for p in att.walk())
assert "cid:logo@example.com" in att.get_body(("html",)).get_content()
PY
down=$("$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
RELAYMAIL_URL="failover(smtp://127.0.0.1:$down file://$work/mail)" \
	check_status "run: sample-failover goes to the second relay" 0 \
	"$out_dir/sample-failover" you@example.org
check_grep "run: and says which one took it" 'sent through file' \
	"$last_output"

# --- CMake ----------------------------------------------------------------
cmake_case() {
	local want=$1 dir="$work/cmake-$2"
	mkdir -p "$dir"
	cp "$out_dir/sample-smallest.c" "$dir/"
	cat >"$dir/CMakeLists.txt" <<EOF
cmake_minimum_required(VERSION 3.13)
project(outside C)
find_package(relaymail $want REQUIRED)
add_executable(sample sample-smallest.c)
target_link_libraries(sample PRIVATE relaymail::relaymail)
EOF
	cmake -S "$dir" -B "$dir/build" -DCMAKE_PREFIX_PATH="$usr" \
		>"$dir/log" 2>&1 && cmake --build "$dir/build" >>"$dir/log" 2>&1
}
if command -v cmake >/dev/null; then
	check "cmake: find_package(relaymail 0.1) builds the sample" \
		cmake_case 0.1 ok
	RELAYMAIL_URL="file://$work/mail" check_status \
		"cmake: the CMake-built sample sends" 0 \
		"$work/cmake-ok/build/sample" you@example.org
	check "cmake: find_package(relaymail) without a version works" \
		cmake_case "" any
	check_status "cmake: a newer major version (9.0) is refused" 1 \
		cmake_case 9.0 newer
	check_status "cmake: before 1.0 another minor (0.2) is refused" 1 \
		cmake_case 0.2 minor
else
	not_ok "cmake is installed (scripts/deps.sh installs it)"
fi

# --- Python: pip install against the staged library ------------------------
py_case() {
	local venv="$work/venv"
	cp -r "$top/bindings/python" "$work/pysrc" &&
		"$py" -m venv --system-site-packages "$venv" &&
		"$venv/bin/python" -m pip install --quiet --no-build-isolation \
			--no-deps --no-index "$work/pysrc" &&
		cd "$work" && PYTHONDONTWRITEBYTECODE=1 \
		"$venv/bin/python" - "$usr" "$work/mail" <<'PY'
import sys, relaymail, relaymail._lib as L
import os
assert "site-packages" in relaymail.__file__, relaymail.__file__
assert os.path.exists(os.path.join(os.path.dirname(relaymail.__file__),
                                   "py.typed"))
maps = [l.split()[-1] for l in open("/proc/self/maps") if "librelaymail" in l]
assert maps and all(m.startswith(sys.argv[1]) for m in maps), maps
msg = relaymail.Message(from_="py@example.com", to="you@example.org",
                        subject="from pip", text="hi")
with relaymail.Transport.from_url("file://" + sys.argv[2]) as t:
    assert t.send(msg).delivered
PY
}
check "python: pip install ./bindings/python works with the staged library" \
	py_case

# --- make uninstall -------------------------------------------------------
check "uninstall: make uninstall DESTDIR PREFIX=/usr" \
	make -C "$top" uninstall DESTDIR="$stage" PREFIX=/usr
check_grep "uninstall: no file is left in the stage" '^0$' \
	"$(find "$stage" \( -type f -o -type l \) | wc -l)"
check_grep "uninstall: the folders install made for relaymail are gone" \
	'^0$' "$(find "$stage/usr/lib/cmake" "$stage/usr/lib/pkgconfig" \
	"$stage/usr/share/man/man3" "$stage/usr/share/man/man8" \
	2>/dev/null | wc -l)"

it_finish
