// mailauth-arc.js - the ARC peer for tests/integration/arc.py: npm mailauth
// 4.13.3 (found through NODE_PATH, installed by the test into build/npm/).
//   node mailauth-arc.js verify DNS FILE
//        -> {"arc": "pass|fail|none", "reason": ..., "dkim": [result of each
//           DKIM-Signature, top first]} for the message in FILE
//   node mailauth-arc.js seal DNS FILE DOMAIN SELECTOR KEYFILE MODIFY
//        -> the message as a hop seals it: mailauth authenticates FILE (client
//           192.0.2.25, sender alice@orig.test), MODIFY=1 then tags the subject
//           and adds a footer as a mailing list does, and sealMessage adds the
//           ARC set with the results of that authentication.
// DNS is the test server, "127.0.0.1@PORT".
'use strict';
const fs = require('node:fs');
const { Resolver } = require('node:dns').promises;
const { authenticate, sealMessage } = require('mailauth');

const [mode, dns, file, domain, selector, keyfile, modify] = process.argv.slice(2);
const [ip, port] = dns.split('@');
const r = new Resolver({ timeout: 1500, tries: 1 });
r.setServers([`${ip}:${port}`]);
const resolver = (name, type) => r.resolve(name, type);

async function main() {
    let message = fs.readFileSync(file);
    const opts = { ip: '192.0.2.25', helo: 'mail.orig.test', sender: 'alice@orig.test',
                   mta: `mx.${domain || 'peer.test'}`, resolver };
    const res = await authenticate(message, opts);
    if (mode === 'verify') {
        process.stdout.write(JSON.stringify({ arc: res.arc.status.result,
                                              reason: res.arc.status.comment || null,
                                              dkim: (res.dkim.results || []).map(x => x.status.result) })
                             + '\n');
        return;
    }
    if (modify === '1') {
        let s = message.toString('binary').replace('Subject: meeting notes', 'Subject: [team] meeting notes');
        message = Buffer.from(s + '-- \r\nmailauth list\r\n', 'binary');
    }
    const seal = await sealMessage(message, { signingDomain: domain, selector,
                                              privateKey: fs.readFileSync(keyfile),
                                              authResults: res.arc.authResults,
                                              cv: res.arc.status.result });
    process.stdout.write(Buffer.concat([Buffer.from(seal), Buffer.from(res.headers), message]));
}
main().catch(e => { process.stderr.write(String(e && e.stack || e) + '\n'); process.exit(2); });
