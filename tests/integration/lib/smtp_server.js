// A test SMTP server built on nodemailer's smtp-server: an independent
// SMTP implementation with STARTTLS, SMTPUTF8 and a SIZE limit. Each
// accepted message is stored as DIR/N.eml with its envelope and the
// user that logged in in DIR/N.json; every AUTH attempt is logged to
// DIR/auth.log as "METHOD USER ok|refused" (never the password or token).
//
// usage: node smtp_server.js --dir DIR --port-file FILE --key KEY
//        --cert CERT [--size BYTES] [--auth-optional]
//        [--oauth TOKENS [--login USER:PASSWORD]...]
//
// By default it offers AUTH PLAIN, LOGIN, CRAM-MD5 and XOAUTH2 with fixed
// credentials: user "alice@example.com" with password "correct horse
// battery", and the XOAUTH2 access token "ya29.test-token" for the same
// user.
//
// With --oauth it stands in for an OAuth2 provider such as Gmail: it
// offers AUTH PLAIN and XOAUTH2, accepts an XOAUTH2 token only while it
// is a line of the file TOKENS (the tokens the fake token endpoint issued
// and has not revoked), and AUTH PLAIN only for the --login pairs.
//
// A refused XOAUTH2 token gets the error challenge (with Google's scope
// under --oauth) and, once the client answers it with an empty line, 535.
// Recipients at nobody@... are refused with 550 and those at busy@...
// with 450.
'use strict';

const fs = require('fs');
const path = require('path');
const { SMTPServer } = require('smtp-server');

const USER = 'alice@example.com';
const PASSWORD = 'correct horse battery';
const TOKEN = 'ya29.test-token';

function parseArgs(argv) {
	const opts = { size: 0, authOptional: false, logins: [] };
	for (let i = 0; i < argv.length; i++) {
		const a = argv[i];
		if (a === '--auth-optional') opts.authOptional = true;
		else if (a === '--dir') opts.dir = argv[++i];
		else if (a === '--port-file') opts.portFile = argv[++i];
		else if (a === '--key') opts.key = argv[++i];
		else if (a === '--cert') opts.cert = argv[++i];
		else if (a === '--size') opts.size = Number(argv[++i]);
		else if (a === '--oauth') opts.oauth = argv[++i];
		else if (a === '--login') opts.logins.push(argv[++i]);
		else throw new Error('unknown argument ' + a);
	}
	if (!opts.dir || !opts.portFile || !opts.key || !opts.cert)
		throw new Error('--dir, --port-file, --key and --cert are needed');
	if (opts.logins.length && !opts.oauth)
		throw new Error('--login goes with --oauth');
	return opts;
}

// The tokens the token endpoint issued and has not revoked.
function validTokens(file) {
	try {
		const text = fs.readFileSync(file, 'utf8');
		return text.split('\n').filter(Boolean);
	} catch (e) {
		return [];
	}
}

// The fixed test login; CRAM-MD5 carries only a digest of the password.
function checkFixed(auth) {
	if (auth.username !== USER) return false;
	if (auth.method === 'XOAUTH2') return auth.accessToken === TOKEN;
	if (auth.method === 'CRAM-MD5') return auth.validatePassword(PASSWORD);
	return auth.password === PASSWORD;
}

function checkOauth(opts, auth) {
	if (auth.method === 'XOAUTH2')
		return validTokens(opts.oauth).includes(auth.accessToken);
	return opts.logins.includes(auth.username + ':' + auth.password);
}

// What differs between the fixed test login and an OAuth2 provider.
function authProfile(opts) {
	if (opts.oauth)
		return {
			name: 'smtp-oauth.relaymail.test',
			methods: ['PLAIN', 'XOAUTH2'],
			scope: 'https://mail.google.com/',
			check: (auth) => checkOauth(opts, auth),
		};
	return {
		name: 'smtp-server.relaymail.test',
		methods: ['PLAIN', 'LOGIN', 'CRAM-MD5', 'XOAUTH2'],
		scope: 'mail',
		check: checkFixed,
	};
}

function onAuth(dir, profile) {
	return (auth, session, callback) => {
		const good = profile.check(auth);
		fs.appendFileSync(path.join(dir, 'auth.log'), auth.method +
		                  ' ' + auth.username + ' ' +
		                  (good ? 'ok' : 'refused') + '\n');
		if (good)
			return callback(null, { user: auth.username });
		if (auth.method === 'XOAUTH2')
			return callback(null, {
				data: {
					status: '401', schemes: 'bearer',
					scope: profile.scope,
				},
			});
		return callback(new Error('Invalid username or password'));
	};
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
	const profile = authProfile(opts);
	fs.mkdirSync(opts.dir, { recursive: true });
	const server = new SMTPServer({
		name: profile.name,
		key: fs.readFileSync(opts.key),
		cert: fs.readFileSync(opts.cert),
		authMethods: profile.methods,
		authOptional: opts.authOptional,
		size: opts.size,
		logger: false,
		onAuth: onAuth(opts.dir, profile),
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
