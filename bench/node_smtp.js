// nodemailer as a peer: sends N messages through a pooled transport and
// prints "elapsed=SECONDS sent=N".
//
//   node node_smtp.js PORT N BODY_FILE one|default [nodelay]
//
// "one": pool with a single connection that is never recycled
// (maxConnections 1, maxMessages Infinity), the counterpart of one
// reused connection. "default": nodemailer's default pool (5
// connections, each recycled after 100 messages). All messages are
// handed to sendMail at once, as a service with a queue would; the
// pool spreads them over its connections. Each message is built from
// the same fields relaymail's bench uses (From, To, Subject, the text).
//
// "nodelay" hands nodemailer sockets with TCP_NODELAY set (through its
// getSocket hook). Without it each message waits for a delayed ACK: the
// final dot is a small write that Nagle holds back until the server
// acknowledges the body, and the server delays that ACK (about 40 ms on
// Linux).
'use strict';

const fs = require('fs');
const net = require('net');
const nodemailer = require('nodemailer');

// A connected socket with Nagle's algorithm off.
function noDelaySocket(options, callback) {
	const sock = net.connect(options.port, options.host, () => {
		sock.setNoDelay(true);
		callback(null, { connection: sock });
	});
	sock.once('error', callback);
}

async function main() {
	const [port, count, bodyFile, mode, tweak] = process.argv.slice(2);
	const text = fs.readFileSync(bodyFile, 'utf8');
	const opts = { host: '127.0.0.1', port: Number(port), pool: true,
		secure: false, ignoreTLS: true };

	if (mode === 'one') {
		opts.maxConnections = 1;
		opts.maxMessages = Infinity;
	}
	if (tweak === 'nodelay')
		opts.getSocket = noDelaySocket;
	const t = nodemailer.createTransport(opts);
	const start = process.hrtime.bigint();
	const jobs = [];

	for (let i = 0; i < Number(count); i++)
		jobs.push(t.sendMail({ from: 'bench@example.com',
			to: 'sink@example.com', subject: 'relaymail bench',
			text }));
	await Promise.all(jobs);
	t.close();
	const s = Number(process.hrtime.bigint() - start) / 1e9;
	console.log(`elapsed=${s.toFixed(6)} sent=${count}`);
}

main().catch((e) => {
	console.error(e);
	process.exit(1);
});
