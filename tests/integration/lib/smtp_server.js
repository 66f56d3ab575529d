// A test SMTP server built on nodemailer's smtp-server: an independent
// SMTP implementation with AUTH PLAIN, LOGIN, CRAM-MD5 and XOAUTH2,
// STARTTLS, SMTPUTF8 and a SIZE limit. Each accepted message is stored
// as DIR/N.eml with its envelope in DIR/N.json.
//
// usage: node smtp_server.js --dir DIR --port-file FILE --key KEY
//        --cert CERT [--size BYTES] [--auth-optional]
//
// Known credentials: user "alice@example.com" with password
// "correct horse battery", and the XOAUTH2 access token "ya29.test-token"
// for the same user. Recipients at nobody@... are refused with 550 and
// those at busy@... with 450.
'use strict';

const fs = require('fs');
const path = require('path');
const { SMTPServer } = require('smtp-server');

const USER = 'alice@example.com';
const PASSWORD = 'correct horse battery';
const TOKEN = 'ya29.test-token';

function parseArgs(argv) {
	const opts = { size: 0, authOptional: false };
	for (let i = 0; i < argv.length; i++) {
		const a = argv[i];
		if (a === '--auth-optional') opts.authOptional = true;
		else if (a === '--dir') opts.dir = argv[++i];
		else if (a === '--port-file') opts.portFile = argv[++i];
		else if (a === '--key') opts.key = argv[++i];
		else if (a === '--cert') opts.cert = argv[++i];
		else if (a === '--size') opts.size = Number(argv[++i]);
		else throw new Error('unknown argument ' + a);
	}
	if (!opts.dir || !opts.portFile || !opts.key || !opts.cert)
		throw new Error('--dir, --port-file, --key and --cert are needed');
	return opts;
}

// Checks one login; CRAM-MD5 carries only a digest of the password.
function checkAuth(auth) {
	if (auth.username !== USER) return false;
	if (auth.method === 'XOAUTH2') return auth.accessToken === TOKEN;
	if (auth.method === 'CRAM-MD5') return auth.validatePassword(PASSWORD);
	return auth.password === PASSWORD;
}

function onAuth(auth, session, callback) {
	if (checkAuth(auth))
		return callback(null, { user: auth.username });
	if (auth.method === 'XOAUTH2')
		return callback(null, {
			data: { status: '401', schemes: 'bearer', scope: 'mail' },
		});
	return callback(new Error('Invalid username or password'));
}

function onRcptTo(address, session, callback) {
	const local = address.address.split('@')[0];
	const err = local === 'nobody' ? new Error('5.1.1 No such user')
		: local === 'busy' ? new Error('4.2.1 Mailbox busy') : null;
	if (err) err.responseCode = local === 'nobody' ? 550 : 450;
	callback(err);
}

let counter = 0;

function store(dir, session, raw) {
	counter += 1;
	const env = session.envelope;
	const meta = {
		mail_from: env.mailFrom ? env.mailFrom.address : null,
		rcpt_to: env.rcptTo.map((r) => r.address),
		smtputf8: Boolean(env.smtpUtf8),
		body: env.bodyType || null,
		user: session.user || null,
		tls: Boolean(session.secure),
		helo: session.hostNameAppearsAs || null,
	};
	const base = path.join(dir, String(counter));
	fs.writeFileSync(base + '.eml.tmp', raw);
	fs.writeFileSync(base + '.json', JSON.stringify(meta) + '\n');
	fs.renameSync(base + '.eml.tmp', base + '.eml');
	return counter;
}

function onData(dir) {
	return (stream, session, callback) => {
		const chunks = [];
		stream.on('data', (c) => chunks.push(c));
		stream.on('end', () => {
			if (stream.sizeExceeded) {
				const err = new Error('Message exceeds the size limit');
				err.responseCode = 552;
				return callback(err);
			}
			const n = store(dir, session, Buffer.concat(chunks));
			callback(null, 'Ok: queued as ' + n);
		});
	};
}

function main() {
	const opts = parseArgs(process.argv.slice(2));
	fs.mkdirSync(opts.dir, { recursive: true });
	const server = new SMTPServer({
		name: 'smtp-server.relaymail.test',
		key: fs.readFileSync(opts.key),
		cert: fs.readFileSync(opts.cert),
		authMethods: ['PLAIN', 'LOGIN', 'CRAM-MD5', 'XOAUTH2'],
		authOptional: opts.authOptional,
		size: opts.size,
		logger: false,
		onAuth,
		onRcptTo,
		onData: onData(opts.dir),
	});
	server.on('error', (e) => console.error('smtp-server: ' + e.message));
	server.listen(0, '127.0.0.1', () => {
		const port = server.server.address().port;
		fs.writeFileSync(opts.portFile + '.tmp', port + '\n');
		fs.renameSync(opts.portFile + '.tmp', opts.portFile);
	});
	const stop = () => server.close(() => process.exit(0));
	process.on('SIGTERM', stop);
	process.on('SIGINT', stop);
}

main();
