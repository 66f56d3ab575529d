// Verifies every DKIM signature of a message with mailauth.
//
// usage: node dkim_verify.js MESSAGE RECORD... [--expect-fail]
//
// Each RECORD file holds a zone-file line as relaymail-send
// --dkim-dns-record prints it; mailauth's resolver is answered from
// them, so nothing leaves the machine. Exits 0 when every signature
// passes (or, with --expect-fail, when none does).
'use strict';

const fs = require('fs');
const { dkimVerify } = require('mailauth/lib/dkim/verify');

function loadRecords(paths) {
    const records = new Map();
    for (const path of paths) {
        const line = fs.readFileSync(path, 'ascii').trim();
        const name = line.split(/\s+/)[0].toLowerCase().replace(/\.$/, '');
        const strings = [...line.matchAll(/"([^"]*)"/g)].map((m) => m[1]);
        records.set(name, [strings]);
    }
    return records;
}

async function main() {
    const expectFail = process.argv.includes('--expect-fail');
    const args = process.argv.slice(2).filter((a) => a !== '--expect-fail');
    const message = fs.readFileSync(args[0]);
    const records = loadRecords(args.slice(1));
    const resolver = async (name, type) => {
        const key = name.toLowerCase().replace(/\.$/, '');
        if (type !== 'TXT' || !records.has(key)) {
            const err = new Error('no record for ' + name);
            err.code = 'ENOTFOUND';
            throw err;
        }
        return records.get(key);
    };
    const res = await dkimVerify(message, { resolver });
    let passed = 0;
    res.results.forEach((r, i) => {
        const status = r.status.result;
        console.log(`mailauth: signature ${i}: ${status}` +
            (r.status.comment ? ` (${r.status.comment})` : ''));
        if (status === 'pass') passed++;
    });
    if (res.results.length === 0) return 1;
    if (expectFail) return passed === 0 ? 0 : 1;
    return passed === res.results.length ? 0 : 1;
}

main().then((code) => process.exit(code), (err) => {
    console.error(err);
    process.exit(2);
});
