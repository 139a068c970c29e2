// embedded_relay.mjs URL — nostr-tools (npm) against genosdb's embedded relay: it publishes
// and subscribes (stored and ephemeral events), sees invalid events refused, and reads NIP-11.
// Exits non-zero with a message on the first failure.
import { finalizeEvent, generateSecretKey, getPublicKey, verifyEvent } from 'nostr-tools/pure';
import { Relay, useWebSocketImplementation } from 'nostr-tools/relay';
import WebSocket from 'ws';
import { readFileSync } from 'node:fs';

useWebSocketImplementation(WebSocket);
const url = process.argv[2];
const fail = (msg) => { console.error(`FAIL: ${msg}`); process.exit(1); };
const withTimeout = (p, ms, what) =>
  Promise.race([p, new Promise((_, rej) => setTimeout(() => rej(new Error(`timeout: ${what}`)), ms))]);
setTimeout(() => fail('whole test over 20 s'), 20000).unref();

const sk = generateSecretKey();
const now = Math.floor(Date.now() / 1000);
const relay = await withTimeout(Relay.connect(url), 5000, 'connect');

// a live subscription sees both a stored and an ephemeral event
const got = new Map();
let eose = false;
const waiters = [];
relay.subscribe([{ kinds: [1, 20001], '#t': ['interop'] }], {
  onevent(e) { got.set(e.id, e); waiters.forEach((w) => w()); },
  oneose() { eose = true; },
});
const until = (cond, ms, what) => withTimeout(new Promise((res) => {
  const check = () => { if (cond()) res(); };
  waiters.push(check); check();
  const t = setInterval(() => { if (cond()) { clearInterval(t); res(); } }, 20);
}), ms, what);
await until(() => eose, 5000, 'EOSE');

const stored = finalizeEvent({ kind: 1, created_at: now, tags: [['t', 'interop']], content: 'from nostr-tools: "quotes" \\ \n é 🚀' }, sk);
const eph = finalizeEvent({ kind: 20001, created_at: now, tags: [['t', 'interop']], content: 'ephemeral' }, sk);
await withTimeout(relay.publish(stored), 5000, 'publish stored');
await withTimeout(relay.publish(eph), 5000, 'publish ephemeral');
await until(() => got.has(stored.id) && got.has(eph.id), 5000, 'live delivery');
if (!verifyEvent(got.get(stored.id))) fail('relayed event does not verify in nostr-tools');
if (got.get(stored.id).content !== stored.content) fail('content changed in transit');

// invalid events are refused with an "invalid:" reason
const badId = { ...stored, content: 'tampered' };
const badSig = { ...stored, sig: stored.sig.slice(0, 10) + (stored.sig[10] === '0' ? '1' : '0') + stored.sig.slice(11) };
for (const [name, ev] of [['bad id', badId], ['bad signature', badSig]]) {
  let refused = '';
  try { await withTimeout(relay.publish(ev), 5000, name); } catch (e) { refused = String(e.message || e); }
  if (!refused.includes('invalid')) fail(`${name}: not refused (${refused})`);
}

// a fresh connection gets the stored event back, not the ephemeral one
const again = await withTimeout(Relay.connect(url), 5000, 'reconnect');
const back = [];
await withTimeout(new Promise((res) => again.subscribe([{ authors: [getPublicKey(sk)] }], {
  onevent(e) { back.push(e.id); }, oneose() { res(); },
})), 5000, 'stored query');
if (back.length !== 1 || back[0] !== stored.id) fail(`stored query returned ${JSON.stringify(back)}`);

// events published by genosdb's own CLI verify in nostr-tools
const cliEvents = process.argv[3] ? readFileSync(process.argv[3], 'utf8').trim().split('\n') : [];
for (const line of cliEvents) {
  const ev = JSON.parse(line);
  if (ev.id && !verifyEvent(ev)) fail(`genosdb event does not verify in nostr-tools: ${line}`);
}

// NIP-11
const info = await (await fetch(url.replace('ws://', 'http://'), { headers: { Accept: 'application/nostr+json' } })).json();
if (!info.supported_nips.includes(1)) fail(`NIP-11: ${JSON.stringify(info)}`);

relay.close();
again.close();
console.log(`embedded relay interop: ok (${got.size} live events, ${cliEvents.length} genosdb events verified)`);
process.exit(0);
