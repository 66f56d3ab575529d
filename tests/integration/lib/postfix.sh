# A private Postfix with Dovecot SASL, configured and run by a test
# (sourced after common.sh; needs root). Nothing outside $srv is touched:
# both use their own configuration, queue, sockets and logs, and listen
# only on 127.0.0.1.
#
#   pf_ports                  sets pf_plain, pf_submission, pf_smtps
#   pf_setup SRV CERTS MAIL   writes the configuration under SRV
#   pf_start / pf_stop        start and stop Dovecot, then Postfix
#
# Three smtpd services: plain SMTP on $pf_plain (relaying for
# 127.0.0.0/8, no AUTH), submission on $pf_submission (STARTTLS
# required, then AUTH required), and implicit TLS on $pf_smtps (AUTH
# required). Every message, whatever its recipients, goes to a pipe
# service that saves it as MAIL/<queue id>.eml with its envelope in
# MAIL/<queue id>.env (the sender, then one recipient per line).
#
# Users for AUTH: $pf_user with password $pf_password.

pf_user=tester@relaymail.test
pf_password='s3cret pass+word'

# Prints the first N ports from 2525 up that nothing listens on.
free_ports() {
	"$py" - "$1" <<'PY'
import socket, sys
want, port, found = int(sys.argv[1]), 2525, []
while len(found) < want and port < 3525:
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
        found.append(str(port))
    except OSError:
        pass
    finally:
        s.close()
    port += 1
print(" ".join(found))
PY
}

pf_ports() {
	read -r pf_plain pf_submission pf_smtps <<<"$(free_ports 3)"
}

pf_main_cf() {
	cat <<CF
compatibility_level = 3.6
queue_directory = $srv/queue
data_directory = $srv/data
mail_owner = postfix
setgid_group = postdrop
myhostname = mail.relaymail.test
mydomain = relaymail.test
myorigin = \$myhostname
mydestination =
relay_domains =
inet_interfaces = loopback-only
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_peername_lookup = no
smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated,
    reject_unauth_destination
smtputf8_enable = yes
message_size_limit = 10240000
biff = no
append_dot_mydomain = no
transport_maps = static:savemail:everything
savemail_destination_recipient_limit = 1000
maillog_file = $srv/log/postfix.log
maillog_file_prefixes = $srv/log
smtpd_tls_cert_file = $certs/server.pem
smtpd_tls_key_file = $certs/server.key
smtpd_tls_security_level = may
smtpd_tls_loglevel = 1
smtpd_sasl_type = dovecot
smtpd_sasl_path = $srv/dovecot/auth-client
smtpd_sasl_auth_enable = no
smtpd_sasl_security_options = noanonymous
CF
}

# The services master(8) runs; chroot is off so absolute paths work.
pf_master_cf() {
	local auth="-o smtpd_sasl_auth_enable=yes"
	auth="$auth -o smtpd_relay_restrictions=permit_sasl_authenticated,reject"
	cat <<CF
127.0.0.1:$pf_plain inet n - n - - smtpd
127.0.0.1:$pf_submission inet n - n - - smtpd
  -o syslog_name=postfix/submission
  -o smtpd_tls_security_level=encrypt
  -o smtpd_tls_auth_only=yes
  $auth
127.0.0.1:$pf_smtps inet n - n - - smtpd
  -o syslog_name=postfix/smtps
  -o smtpd_tls_wrappermode=yes
  $auth
cleanup   unix n - n - 0 cleanup
qmgr      unix n - n 300 1 qmgr
tlsmgr    unix - - n 1000? 1 tlsmgr
rewrite   unix - - n - - trivial-rewrite
bounce    unix - - n - 0 bounce
defer     unix - - n - 0 bounce
trace     unix - - n - 0 bounce
verify    unix - - n - 1 verify
flush     unix n - n 1000? 0 flush
proxymap  unix - - n - - proxymap
smtp      unix - - n - - smtp
relay     unix - - n - - smtp
showq     unix n - n - - showq
error     unix - - n - - error
retry     unix - - n - - error
discard   unix - - n - - discard
anvil     unix - - n - 1 anvil
scache    unix - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
savemail  unix - n n - - pipe
  user=nobody argv=$srv/bin/save-mail $mail \${queue_id} \${sender} \${recipient}
CF
}

# The pipe command: saves stdin as MAIL/<id>.eml, never half written.
pf_save_script() {
	cat <<'SH'
#!/bin/sh
dir=$1 id=$2 sender=$3
shift 3
name=$id
n=0
while [ -e "$dir/$name.eml" ]; do
	n=$((n + 1))
	name=$id-$n
done
cat >"$dir/.$name.tmp" || exit 75
printf '%s\n' "$sender" "$@" >"$dir/$name.env" || exit 75
mv "$dir/.$name.tmp" "$dir/$name.eml" || exit 75
exit 0
SH
}

pf_dovecot_conf() {
	cat <<CF
base_dir = $srv/dovecot
state_dir = $srv/dovecot/state
log_path = $srv/log/dovecot.log
protocols = none
ssl = no
auth_mechanisms = plain login
auth_verbose = yes
default_internal_user = dovecot
default_login_user = dovenull
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $srv/dovecot-users
}
userdb {
  driver = passwd-file
  args = username_format=%u $srv/dovecot-users
}
service auth {
  unix_listener auth-client {
    mode = 0660
    user = postfix
    group = postfix
  }
}
service anvil {
  chroot =
}
CF
}

pf_setup() {
	srv=$1 certs=$2 mail=$3
	mkdir -p "$srv"/{etc,queue,data,log,bin,dovecot/state} "$mail"
	chmod 1777 "$mail"
	chown postfix "$srv/data"
	pf_main_cf >"$srv/etc/main.cf"
	pf_master_cf >"$srv/etc/master.cf"
	pf_save_script >"$srv/bin/save-mail"
	chmod 755 "$srv/bin/save-mail"
	pf_dovecot_conf >"$srv/dovecot.conf"
	printf '%s:{PLAIN}%s:65534:65534::/nonexistent::\n' \
		"$pf_user" "$pf_password" >"$srv/dovecot-users"
	chmod 640 "$srv/dovecot-users"
	chgrp dovecot "$srv/dovecot-users"
	chmod 640 "$certs/server.key"
	chgrp postfix "$certs/server.key"
}

pf_start() {
	dovecot -c "$srv/dovecot.conf" || return 1
	at_exit pf_stop_dovecot
	postfix -c "$srv/etc" check || return 1
	postfix -c "$srv/etc" start || return 1
	at_exit pf_stop_postfix
	wait_for_port "$pf_plain" && wait_for_port "$pf_submission" &&
		wait_for_port "$pf_smtps" && [ -S "$srv/dovecot/auth-client" ]
}

pf_stop_postfix() {
	postfix -c "$srv/etc" stop
	local i
	for ((i = 0; i < 100; i++)); do
		[ -e "$srv/queue/pid/master.pid" ] || return 0
		kill -0 "$(cat "$srv/queue/pid/master.pid")" 2>/dev/null ||
			return 0
		sleep 0.1
	done
	postfix -c "$srv/etc" abort
}

pf_stop_dovecot() {
	dovecot -c "$srv/dovecot.conf" stop
}

# Waits until Postfix delivered N messages into MAIL; prints nothing.
pf_wait_delivered() {
	local n=$1 i
	for ((i = 0; i < 300; i++)); do
		[ "$(find "$mail" -name '*.eml' | wc -l)" -ge "$n" ] && return 0
		sleep 0.1
	done
	return 1
}
