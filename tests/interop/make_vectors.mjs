// make_vectors.mjs — writes ../vectors/nostr_events.json: events built and signed by nostr-tools
// (an implementation this project did not write), for the unit tests to check ids, signatures
// and the NIP-01 serialization against. Run once by hand: node make_vectors.mjs
import { finalizeEvent, getPublicKey, serializeEvent } from 'nostr-tools/pure';
import { writeFileSync } from 'node:fs';

const hex = (b) => Buffer.from(b).toString('hex');
const keys = [
  '0000000000000000000000000000000000000000000000000000000000000003',
  'b7e151628aed2a6abf7158809cf4f3c762e7160f38b4da56a784d9045190cfef',
  'c90fdaa22168c234c4c6628b80dc1cd129024e088a67cc74020bbea63b14e5c9',
];
const cases = [
  { kind: 1, created_at: 1700000000, tags: [], content: 'hello nostr' },
  { kind: 1, created_at: 1700000001, tags: [['e', 'a'.repeat(64)], ['p', 'b'.repeat(64), 'wss://r.example']], content: '' },
  { kind: 1, created_at: 1700000002, tags: [], content: 'quote " backslash \\ newline \n cr \r tab \t bs \b ff \f end' },
  { kind: 1, created_at: 1700000003, tags: [['t', 'üñí©ødé'], ['x', 'line\nbreak']], content: 'unicode: ñ 中文 🚀 \u2028 \u00e9' },
  { kind: 25050, created_at: 1700000004, tags: [['x', 'c'.repeat(64)]], content: '{"v":1,"t":"hello"}' },
  { kind: 0, created_at: 0, tags: [[]], content: '/slash/ and <html> & \'single\'' },
  { kind: 65535, created_at: 4102444800, tags: [['a', '', 'b'], ['z']], content: '\u007f del' },
];
const out = [];
cases.forEach((c, i) => {
  const sk = Buffer.from(keys[i % keys.length], 'hex');
  const ev = finalizeEvent({ ...c }, sk);
  out.push({ seckey: keys[i % keys.length], pubkey: getPublicKey(sk), commitment: serializeEvent(ev), event: ev });
});
writeFileSync(new URL('../vectors/nostr_events.json', import.meta.url), JSON.stringify(out, null, 1) + '\n');
console.log(`wrote ${out.length} vectors`);
