// Parses one message with npm mailparser and prints what it read as JSON
// (the schema compare.py reads).
//
// usage: node parse_node.js MESSAGE.eml
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const { simpleParser } = require('mailparser');

function addresses(field) {
	if (!field) return [];
	const list = Array.isArray(field) ? field : [field];
	const out = [];
	for (const f of list) {
		for (const v of f.value) {
			out.push({ name: v.name, address: v.address });
		}
	}
	return out;
}

function attachment(a) {
	return {
		filename: a.filename || null,
		content_type: a.contentType,
		content_id: a.contentId ? a.contentId.replace(/^<|>$/g, '') : null,
		disposition: a.contentDisposition || null,
		size: a.content.length,
		sha256: crypto.createHash('sha256').update(a.content).digest('hex'),
	};
}

async function main() {
	const raw = fs.readFileSync(process.argv[2]);
	const m = await simpleParser(raw, { keepCidLinks: true });
	const out = {
		parser: 'mailparser',
		subject: m.subject === undefined ? null : m.subject,
		from: addresses(m.from),
		to: addresses(m.to),
		cc: addresses(m.cc),
		reply_to: addresses(m.replyTo),
		message_id: m.messageId || '',
		date: m.date ? m.date.toISOString() : '',
		text: m.text === undefined ? null : m.text,
		html: m.html === false ? null : m.html,
		attachments: m.attachments.map(attachment),
		headers: [...m.headers.keys()].sort(),
		defects: [],
	};
	process.stdout.write(JSON.stringify(out, null, 1) + '\n');
}

main().catch((e) => {
	console.error('mailparser failed: ' + (e.stack || e));
	process.exit(1);
});
