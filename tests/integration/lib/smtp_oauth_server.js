// A test SMTP server for OAuth2, built on nodemailer's smtp-server (after
// smtp_server.js): STARTTLS, AUTH XOAUTH2 checked against the tokens the
// fake token endpoint issued, and AUTH PLAIN for the preset logins.
// Each accepted message is stored as DIR/N.eml with its envelope and
// the user that logged in in DIR/N.json; every AUTH attempt is logged to
// DIR/auth.log as "METHOD USER ok|refused" (never the token).
//
// usage: node smtp_oauth_server.js --dir DIR --port-file FILE --key KEY
//        --cert CERT --valid FILE [--login USER:PASSWORD]...
//
// A refused XOAUTH2 token gets Google's error challenge
// ({"status":"401","schemes":"bearer","scope":"https://mail.google.com/"})
// and, once the client answers it with an empty line, 535.
'use strict';

const fs = require('fs');
const path = require('path');
const { SMTPServer } = require('smtp-server');

function parseArgs(argv) {
	const opts = { logins: [] };
	for (let i = 0; i < argv.length; i++) {
		const a = argv[i];
		if (a === '--dir') opts.dir = argv[++i];
		else if (a === '--port-file') opts.portFile = argv[++i];
		else if (a === '--key') opts.key = argv[++i];
		else if (a === '--cert') opts.cert = argv[++i];
		else if (a === '--valid') opts.valid = argv[++i];
		else if (a === '--login') opts.logins.push(argv[++i]);
		else throw new Error('unknown argument ' + a);
	}
	if (!opts.dir || !opts.portFile || !opts.key || !opts.cert ||
	    !opts.valid)
		throw new Error('--dir, --port-file, --key, --cert and ' +
		                '--valid are needed');
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

function checkAuth(opts, auth) {
	if (auth.method === 'XOAUTH2')
		return validTokens(opts.valid).includes(auth.accessToken);
	return opts.logins.includes(auth.username + ':' + auth.password);
}

function onAuth(opts) {
	return (auth, session, callback) => {
		const good = checkAuth(opts, auth);
		fs.appendFileSync(path.join(opts.dir, 'auth.log'), auth.method +
		                  ' ' + auth.username + ' ' +
		                  (good ? 'ok' : 'refused') + '\n');
		if (good)
			return callback(null, { user: auth.username });
		if (auth.method === 'XOAUTH2')
			return callback(null, {
				data: {
					status: '401', schemes: 'bearer',
					scope: 'https://mail.google.com/',
				},
			});
		return callback(new Error('Invalid username or password'));
	};
}

let counter = 0;

function onData(dir) {
	return (stream, session, callback) => {
		const chunks = [];
		stream.on('data', (c) => chunks.push(c));
		stream.on('end', () => {
			counter += 1;
			const base = path.join(dir, String(counter));
			const env = session.envelope;
			const meta = {
				mail_from: env.mailFrom.address,
				rcpt_to: env.rcptTo.map((r) => r.address),
				user: session.user || null,
				tls: Boolean(session.secure),
			};
			fs.writeFileSync(base + '.json',
			                 JSON.stringify(meta) + '\n');
			fs.writeFileSync(base + '.eml', Buffer.concat(chunks));
			callback(null, 'Ok: queued as ' + counter);
		});
	};
}

function main() {
	const opts = parseArgs(process.argv.slice(2));
	fs.mkdirSync(opts.dir, { recursive: true });
	const server = new SMTPServer({
		name: 'smtp-oauth.relaymail.test',
		key: fs.readFileSync(opts.key),
		cert: fs.readFileSync(opts.cert),
		authMethods: ['PLAIN', 'XOAUTH2'],
		logger: false,
		onAuth: onAuth(opts),
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
