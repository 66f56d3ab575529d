// Sends one message through the official @sendgrid/mail client to a
// loopback SendGrid fake, for comparison with what relaymail sends.
//
//   node sendgrid_official.js BASE_URL KEY MESSAGE.json
//
// MESSAGE.json holds the fields in @sendgrid/mail's own form.
'use strict';

const fs = require('fs');
const sgMail = require('@sendgrid/mail');

async function main() {
	const [baseUrl, key, file] = process.argv.slice(2);
	const msg = JSON.parse(fs.readFileSync(file, 'utf8'));

	sgMail.setApiKey(key);
	sgMail.client.setDefaultRequest('baseUrl', baseUrl);
	const [res] = await sgMail.send(msg);
	const id = res.headers['x-message-id'];
	console.log(`status ${res.statusCode} id ${id}`);
}

main().catch((e) => {
	console.error(e.response ? JSON.stringify(e.response.body) : e);
	process.exit(1);
});
