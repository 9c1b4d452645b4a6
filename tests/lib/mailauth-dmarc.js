// mailauth-dmarc.js - the differential peer for tests/integration/dmarc.py:
// runs mailauth's (RFC 7489, PSL-based) DMARC check for each case read as a
// JSON array on stdin, against the test DNS server given as argv[2]
// ("127.0.0.1@PORT"), and prints a JSON array of {result, policy}.
// mailauth is found through NODE_PATH (installed by the test into build/).
'use strict';
const { Resolver } = require('node:dns').promises;
const { dmarc } = require('mailauth/lib/dmarc');

const [ip, port] = process.argv[2].split('@');
const r = new Resolver({ timeout: 1500, tries: 1 });
r.setServers([`${ip}:${port}`]);
const resolver = (name, type) => r.resolve(name, type);

let input = '';
process.stdin.on('data', d => (input += d));
process.stdin.on('end', async () => {
    const out = [];
    for (const c of JSON.parse(input)) {
        const spfDomains = c.spf && c.spf.result === 'pass' ? [{ domain: c.spf.domain }] : [];
        const dkimDomains = (c.dkim || []).filter(d => d.result === 'pass').map(d => ({ domain: d.domain }));
        try {
            const res = await dmarc({ headerFrom: `user@${c.from}`, spfDomains, dkimDomains, resolver });
            out.push({ result: res.status.result, policy: res.policy || null });
        } catch (e) {
            out.push({ result: 'exception', policy: null, error: String(e) });
        }
    }
    process.stdout.write(JSON.stringify(out) + '\n');
});
