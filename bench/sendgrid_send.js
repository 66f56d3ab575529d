// The official @sendgrid/mail client as a peer: N sends, one after the
// other, to the loopback fake, and prints "elapsed=SECONDS sent=N".
//
//   node sendgrid_send.js PORT KEY N BODY_FILE
//
// Node 20's global HTTP agent keeps connections alive, so the client
// reuses one connection as relaymail's transport does. Each send builds
// the request from the same fields relaymail's bench uses.
'use strict';

const fs = require('fs');
const sgMail = require('@sendgrid/mail');

async function main() {
	const [port, key, count, bodyFile] = process.argv.slice(2);
	const text = fs.readFileSync(bodyFile, 'utf8');

	sgMail.setApiKey(key);
	sgMail.client.setDefaultRequest('baseUrl', `http://127.0.0.1:${port}`);
	const start = process.hrtime.bigint();
	for (let i = 0; i < Number(count); i++)
		await sgMail.send({ from: 'bench@example.com',
			to: 'sink@example.com', subject: 'relaymail bench',
			text });
	const s = Number(process.hrtime.bigint() - start) / 1e9;
	console.log(`elapsed=${s.toFixed(6)} sent=${count}`);
}

main().catch((e) => {
	console.error(e.response ? JSON.stringify(e.response.body) : e);
	process.exit(1);
});
