# A throw-away test CA and a server certificate it signed (sourced after
# common.sh). The server certificate names localhost and 127.0.0.1.
#
#   make_certs DIR   writes DIR/ca.pem, DIR/server.pem, DIR/server.key,
#                    and DIR/other.pem/other.key (a certificate from a
#                    second, untrusted CA)

make_certs() {
	local dir=$1
	mkdir -p "$dir"
	(
		cd "$dir" || exit 1
		make_ca ca "relaymail test CA" &&
		make_leaf server ca localhost &&
		make_ca rogue "relaymail untrusted CA" &&
		make_leaf other rogue localhost
	) >"$dir/openssl.log" 2>&1
}

make_ca() {
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -sha256 \
		-keyout "$1.key" -out "$1.pem" -subj "/CN=$2" \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign"
}

make_leaf() {
	local name=$1 ca=$2 host=$3
	openssl req -newkey rsa:2048 -nodes -sha256 -keyout "$name.key" \
		-out "$name.csr" -subj "/CN=$host" &&
	printf '%s\n' "basicConstraints=CA:FALSE" \
		"keyUsage=digitalSignature,keyEncipherment" \
		"extendedKeyUsage=serverAuth" \
		"subjectAltName=DNS:$host,IP:127.0.0.1" >"$name.ext" &&
	openssl x509 -req -in "$name.csr" -CA "$ca.pem" -CAkey "$ca.key" \
		-CAcreateserial -days 2 -sha256 -extfile "$name.ext" \
		-out "$name.pem"
}
