#!/bin/bash
# The file transport and relaymail-send's local modes: --dump and
# file://DIR give a message that both parsers read back field by field;
# errors give the documented exit statuses and clear messages.
source "$(dirname "$0")/lib/common.sh"
source "$itlib/fixture.sh"

it_init 15-file
unset RELAYMAIL_URL RELAYMAIL_PASSWORD RELAYMAIL_OAUTH_TOKEN
fixture_make "$work/fx"
send="$bin/relaymail-send"

check "dump: --dump writes the message to stdout" \
	sh -c '"$@" >"'"$work/dump.eml"'"' sh "$send" --dump "${fixture_args[@]}"
check_parsed "dump" "$work/dump.eml" "$work/fx/expected.json"

# Bodies from files, the text one from stdin.
body_files() {
	printf 'Grüße aus einer Datei\n.dot\n' >"$work/body.txt"
	printf '<p>Grüße <i>HTML</i></p>\n' >"$work/body.html"
	"$send" --dump --from a@example.com --to b@example.com \
		--subject files --text-file - --html-file "$work/body.html" \
		<"$work/body.txt" >"$work/files.eml" || return 1
	printf '%s\n' '{"subject": "files", "text": "Grüße aus einer Datei\n.dot",' \
		'"html": "<p>Grüße <i>HTML</i></p>"}' >"$work/files.json"
}
check "bodies: --text-file - and --html-file are read" body_files
check_parsed "bodies" "$work/files.eml" "$work/files.json"

mkdir -p "$work/out"
check_status "file: file://DIR exits 0" 0 \
	"$send" --url "file://$work/out" "${fixture_args[@]}"
files=("$work/out"/*.eml)
if [ "${#files[@]}" -eq 1 ] && [ -s "${files[0]}" ]; then
	ok "file: exactly one .eml file appeared"
	check_parsed "file" "${files[0]}" "$work/fx/expected.json"
	check_grep "file: the queue id is the file name" \
		"queue id $(basename "${files[0]}")" "$last_output"
else
	not_ok "file: exactly one .eml file appeared"
fi

RELAYMAIL_URL="file://$work/out" check_status \
	"file: RELAYMAIL_URL is used without --url" 0 \
	"$send" --from a@example.com --to b@example.com --text hi
check_grep "file: two messages, two distinct files" '^2$' \
	"$(find "$work/out" -name '*.eml' | wc -l)"
check_grep "file: no temporary file is left behind" '^0$' \
	"$(find "$work/out" -name '.*' -type f | wc -l)"

# The null reverse path: the file holds the message only (no envelope,
# as with any envelope sender), its From as given.
mkdir -p "$work/bounce"
check_status "file: --envelope-from '<>' exits 0" 0 \
	"$send" --url "file://$work/bounce" --from a@example.com \
	--to b@example.com --text hi --envelope-from '<>'
check_grep "file: the From header is unchanged" '^From: a@example\.com' \
	"$(cat "$work/bounce"/*.eml)"

check_status "missing folder: cannot create the output (73)" 73 \
	"$send" --url "file://$work/nowhere" --from a@example.com \
	--to b@example.com --text hi
check_grep "missing folder: the error names the path" \
	"$work/nowhere" "$last_output"
check_status "missing folder: --check exits 73 too" 73 \
	"$send" --check --url "file://$work/nowhere"

check_status "file:DIR without // is a usage error (64)" 64 \
	"$send" --url "file:nu-outbox" --from a@example.com \
	--to b@example.com --text hi
check_grep "file:DIR: the error shows how file URLs are written" \
	'file:///absolute/folder or file://relative/folder' "$last_output"
check_grep "file:DIR: the error does not say it has no scheme" '^0$' \
	"$(printf '%s\n' "$last_output" | grep -c 'no scheme')"
check_grep "bad URL: the code's name is said once" '^1$' \
	"$(printf '%s\n' "$last_output" | grep -o 'bad transport URL' | wc -l)"

check_status "usage: no --from is a usage error (64)" 64 \
	"$send" --url "file://$work/out" --to b@example.com --text hi
check_status "usage: no transport is a usage error (64)" 64 \
	"$send" --from a@example.com --to b@example.com --text hi
check_status "usage: an unknown option is a usage error (64)" 64 \
	"$send" --frmo a@example.com
check_grep "usage: the unknown option is named after the program's name" \
	"^relaymail-send: unknown or ambiguous option '--frmo'" "$last_output"
check_status "usage: an option without its value is a usage error (64)" \
	64 "$send" --from a@example.com --to b@example.com --url
check_grep "usage: the option without its value is named" \
	'^relaymail-send: --url needs a value' "$last_output"
for opt in --text --html --subject --from --url --text-file; do
	check_status "usage: $opt given twice is refused (64)" 64 \
		"$send" --dump --from a@example.com --to b@example.com \
		"$opt" one "$opt" two
	check_grep "usage: $opt given twice is named" \
		"^relaymail-send: $opt given twice" "$last_output"
done
check_status "usage: an unknown scheme is a usage error (64)" 64 \
	"$send" --url "gopher://x" --from a@example.com --to b@example.com \
	--text hi

check_status "data: a bad address is bad data (65)" 65 \
	"$send" --url "file://$work/out" --from a@example.com \
	--to "not an address" --text hi
check_grep "data: the error names the field" '\[to' "$last_output"
check_status "data: control bytes in --from are refused (65)" 65 \
	"$send" --url "file://$work/out" --from $'Ann\r\e[31mx' \
	--to b@example.com --text hi
check_grep "data: control bytes in the error are shown escaped" \
	"'Ann\\\\r\\\\x1b\\[31mx'" "$last_output"
check_grep "data: no raw control byte reaches stderr" '^0$' \
	"$(printf '%s' "$last_output" | tr -d '\n' | tr -dc '\000-\037\177' |
	wc -c)"
check_status "data: CR/LF in the subject is refused (65)" 65 \
	"$send" --url "file://$work/out" --from a@example.com \
	--to b@example.com --text hi --subject $'Hi\r\nBcc: victim@example.org'
check_status "data: a missing attachment is unreadable input (66)" 66 \
	"$send" --url "file://$work/out" --from a@example.com \
	--to b@example.com --text hi --attach "$work/no-such-file"
check_grep "data: the error names the missing file" 'no-such-file' \
	"$last_output"

# Every local file the URL or the options name that cannot be read is
# unreadable input (66), with the reason and no outcome class.
check_status "input: an unreadable --dkim-key exits 66" 66 \
	"$send" --url "file://$work/out" --from a@example.com \
	--to b@example.com --text hi --dkim-key "$work/no-key" \
	--dkim-selector s1 --dkim-domain example.com
dkim_query="dkim_key=$work/no-key&dkim_selector=s1&dkim_domain=example.com"
check_status "input: an unreadable dkim_key= in the URL exits 66" 66 \
	"$send" --url "file://$work/out?$dkim_query" \
	--from a@example.com --to b@example.com --text hi
check_grep "input: the dkim_key= error says why" \
	'No such file or directory' "$last_output"
check_status "input: an unreadable password_file= exits 66" 66 \
	"$send" --url "smtp://u@127.0.0.1:1?password_file=$work/no-secret" \
	--from a@example.com --to b@example.com --text hi
check_grep "input: the password_file= error says why" \
	"no-secret: No such file or directory" "$last_output"
check_grep "input: an unreadable file prints no outcome class" '^0$' \
	"$(printf '%s\n' "$last_output" | grep -c 'outcome:')"

# Usage errors (64) print no outcome class either.
for bad in "u@127.0.0.1:1?password_env=RELAYMAIL_IT_UNSET" \
	"127.0.0.1:1?ehlo=a%20b" "127.0.0.1:1?password=x"; do
	check_status "usage: smtp://$bad is a usage error (64)" 64 \
		"$send" --url "smtp://$bad" --from a@example.com \
		--to b@example.com --text hi
	check_grep "usage: smtp://$bad prints no outcome class" '^0$' \
		"$(printf '%s\n' "$last_output" | grep -c 'outcome:')"
done

check_status "check: --check on file:// describes the folder" 0 \
	"$send" --check --url "file://$work/out"
# The C program in README.md compiles warning-free and sends a message.
readme_example() {
	awk '/^```c$/ { on = 1; next } /^```$/ { on = 0 } on' \
		"$top/README.md" >"$work/hello.c"
	[ -s "$work/hello.c" ] || return 1
	cc -std=c11 -Wall -Wextra -Werror -I"$top/include" \
		-o "$work/hello" "$work/hello.c" -L"$top/build/lib" \
		-lrelaymail -Wl,-rpath,"$top/build/lib" || return 1
	mkdir -p "$work/readme"
	"$work/hello" "file://$work/readme" &&
		[ "$(find "$work/readme" -name '*.eml' | wc -l)" -eq 1 ]
}
check "readme: the README's C example builds and sends" readme_example

check_status "version: --version exits 0" 0 "$send" --version
check_status "help: --help exits 0" 0 "$send" --help

it_finish
