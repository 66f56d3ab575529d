// Reads one message with npm mailparser and compares it field by field
// with the expectation JSON that tests/verify/build_samples.c wrote.
// Attachments are compared byte for byte through their SHA-256.
//
// usage: NODE_PATH=tests/node_modules node verify.js MESSAGE.eml EXPECTED.json
//
// Prints one line per difference and exits 1 if there is any.
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const url = require('url');
const libmime = require('libmime');
const { simpleParser } = require('mailparser');

// mailparser shows international domains as U-labels; the header holds
// A-labels. Both sides are compared in U-label form.
function unicodeAddress(a) {
	const at = a.lastIndexOf('@');
	if (at < 0) return a;
	return a.slice(0, at + 1) + url.domainToUnicode(a.slice(at + 1));
}

function addresses(field) {
	if (!field) return [];
	const out = [];
	for (const f of Array.isArray(field) ? field : [field]) {
		for (const v of f.value) {
			out.push([v.name || '', unicodeAddress(v.address)]);
		}
	}
	return out;
}

function normText(s) {
	if (s === undefined || s === null || s === false) return null;
	return s.replace(/\r\n/g, '\n').replace(/\n+$/, '');
}

function same(a, b) {
	return JSON.stringify(a) === JSON.stringify(b);
}

function diff(problems, field, want, got) {
	if (!same(want, got)) {
		problems.push(`${field}: built ${JSON.stringify(want)}, parsed ` +
			JSON.stringify(got));
	}
}

function partInfo(a) {
	return {
		filename: a.filename || null,
		content_type: a.contentType,
		content_id: a.contentId ? a.contentId.replace(/^<|>$/g, '') : null,
		size: a.content.length,
		sha256: crypto.createHash('sha256').update(a.content).digest('hex'),
	};
}

function compareAttachments(problems, want, got) {
	const left = got.map(partInfo);
	for (const w of want) {
		const i = left.findIndex((a) => a.filename === w.filename);
		if (i < 0) {
			problems.push(`attachment ${JSON.stringify(w.filename)}: ` +
				`missing (parsed: ${JSON.stringify(left.map((a) => a.filename))})`);
			continue;
		}
		const a = left.splice(i, 1)[0];
		for (const key of ['content_type', 'sha256', 'size', 'content_id']) {
			if (key in w) diff(problems, `attachment ${w.filename} ${key}`, w[key], a[key]);
		}
	}
	if (left.length) {
		problems.push('unexpected parts: ' +
			JSON.stringify(left.map((a) => a.filename)));
	}
}

// mailparser leaves headers it does not know as they were written.
function headerText(v) {
	if (v === undefined) return null;
	if (typeof v === 'string') return libmime.decodeWords(v);
	return v.text !== undefined ? v.text : JSON.stringify(v);
}

function compareHeaders(problems, m, want) {
	for (const [name, value] of Object.entries(want.headers || {})) {
		diff(problems, `header ${name}`, value, headerText(m.headers.get(name)));
	}
	for (const name of want.absent_headers || []) {
		if (m.headers.has(name)) problems.push(`header ${name} present but must not be`);
	}
	if (!(m.date instanceof Date) || isNaN(m.date)) problems.push('date: missing or invalid');
	if (!/^<[^<>@\s]+@[^<>@\s]+>$/.test(m.messageId || '')) {
		problems.push(`message-id: not <left@right>: ${m.messageId}`);
	}
}

function compare(m, want) {
	const problems = [];
	compareHeaders(problems, m, want);
	// mailparser reports an empty Subject as no Subject.
	if ('subject' in want) diff(problems, 'subject', want.subject, m.subject || '');
	const fields = { from: m.from, to: m.to, cc: m.cc, reply_to: m.replyTo };
	for (const [field, value] of Object.entries(fields)) {
		if (field in want) {
			diff(problems, field,
				want[field].map((a) => [a.name, unicodeAddress(a.address)]),
				addresses(value));
		}
	}
	// mailparser makes text from HTML when there is no text part.
	if ('text' in want) diff(problems, 'text', normText(want.text), normText(m.text));
	diff(problems, 'html', normText(want.html), normText(m.html));
	compareAttachments(problems, want.attachments || [], m.attachments);
	return problems;
}

async function main() {
	const raw = fs.readFileSync(process.argv[2]);
	const want = JSON.parse(fs.readFileSync(process.argv[3], 'utf8'));
	let problems;
	try {
		const m = await simpleParser(raw, { keepCidLinks: true });
		problems = compare(m, want);
	} catch (e) {
		problems = [`mailparser failed: ${e.stack || e}`];
	}
	for (const p of problems) console.log('mailparser: ' + p);
	process.exit(problems.length ? 1 : 0);
}

main();
