// A fast loopback fake of SendGrid's v3 mail send for make bench: both
// relaymail and @sendgrid/mail send to it, so its cost is the same for
// both. It checks what a client must get right (POST /v3/mail/send, the
// Bearer key, a JSON body with personalizations, from, subject and
// content) and answers 202 with an X-Message-Id, keeping the connection
// alive. Anything else gets SendGrid's error shape and a 400/401.
//
//   node sendgrid_fake.js PORT KEY
'use strict';

const http = require('http');

const [port, key] = process.argv.slice(2);
let n = 0;

function fail(res, status, message) {
	res.writeHead(status, { 'Content-Type': 'application/json' });
	res.end(JSON.stringify({ errors: [{ message, field: null }] }));
}

function check(req, body) {
	if (req.method !== 'POST' || req.url !== '/v3/mail/send')
		return [404, 'no such endpoint'];
	if (req.headers.authorization !== `Bearer ${key}`)
		return [401, 'bad API key'];
	if (!/^application\/json/.test(req.headers['content-type'] || ''))
		return [400, 'content type must be JSON'];
	let m;
	try {
		m = JSON.parse(body);
	} catch (e) {
		return [400, 'body is not JSON'];
	}
	if (!Array.isArray(m.personalizations) || !m.from || !m.subject ||
	    !Array.isArray(m.content) || m.content.length === 0)
		return [400, 'missing personalizations, from, subject or content'];
	return null;
}

const server = http.createServer((req, res) => {
	const chunks = [];
	req.on('data', (c) => chunks.push(c));
	req.on('end', () => {
		const bad = check(req, Buffer.concat(chunks).toString('utf8'));
		if (bad)
			return fail(res, bad[0], bad[1]);
		n++;
		res.writeHead(202, { 'X-Message-Id': `bench-${n}`,
			'Content-Length': '0' });
		res.end();
	});
});
server.keepAliveTimeout = 60000;
server.listen(Number(port), '127.0.0.1');
