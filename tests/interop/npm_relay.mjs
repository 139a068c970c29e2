// npm_relay.mjs — a relay this project did not write: @nostr-relay/core (npm) on a `ws`
// server on 127.0.0.1, any free port. Prints {"listening":"ws://127.0.0.1:PORT"} and runs until
// killed. With `--tls CERT.pem KEY.pem` it serves wss:// (node's TLS) and prints a wss:// URL. Only the storage is ours: a plain in-memory list (the package leaves storage to its
// users); validation, subscriptions, filters and broadcasting are the package's.
import { EventRepository } from '@nostr-relay/common';
import { NostrRelay } from '@nostr-relay/core';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { WebSocketServer } from 'ws';

class MemoryRepository extends EventRepository {
  constructor() { super(); this.events = new Map(); }
  isSearchSupported() { return false; }
  upsert(event) {
    const isDuplicate = this.events.has(event.id);
    this.events.set(event.id, event);
    return { isDuplicate };
  }
  find(filter) {
    const match = (e) =>
      (!filter.ids || filter.ids.includes(e.id)) &&
      (!filter.authors || filter.authors.includes(e.pubkey)) &&
      (!filter.kinds || filter.kinds.includes(e.kind)) &&
      (filter.since === undefined || e.created_at >= filter.since) &&
      (filter.until === undefined || e.created_at <= filter.until) &&
      Object.entries(filter.tags || {}).every(([k, vals]) =>
        e.tags.some((t) => t[0] === k && vals.includes(t[1])));
    const out = [...this.events.values()].filter(match).sort((a, b) => b.created_at - a.created_at);
    return filter.limit ? out.slice(0, filter.limit) : out;
  }
  async destroy() {}
  async deleteByDeletionRequest() {}
}

const relay = new NostrRelay(new MemoryRepository());
const tls = process.argv.indexOf('--tls');
let wss;
if (tls > 0) {
  const server = createServer({ cert: readFileSync(process.argv[tls + 1]), key: readFileSync(process.argv[tls + 2]) });
  wss = new WebSocketServer({ server });
  server.listen(0, '127.0.0.1', () => {
    console.log(JSON.stringify({ listening: `wss://127.0.0.1:${server.address().port}` }));
  });
} else {
  wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  wss.on('listening', () => {
    console.log(JSON.stringify({ listening: `ws://127.0.0.1:${wss.address().port}` }));
  });
}
wss.on('connection', (ws) => {
  relay.handleConnection(ws);
  ws.on('message', async (data) => {
    try {
      await relay.handleMessage(ws, JSON.parse(data.toString()));
    } catch (e) {
      ws.send(JSON.stringify(['NOTICE', `error: ${e.message}`]));
    }
  });
  ws.on('close', () => relay.handleDisconnect(ws));
});
setTimeout(() => process.exit(0), 120000).unref(); // never outlive a test run
