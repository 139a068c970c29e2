// rtc_browser.mjs — headless Chromium against the C data channel stack, both directions.
//
//  1. Chromium offers, `genosdb rtc answer --echo` answers: the page sends 1,000 messages
//     (text and binary, 0 B to 64 KiB) and a 16 MiB binary transfer on two channels and
//     checks that every echoed byte matches; then it closes one channel (the C side must
//     answer the stream reset) and the other keeps working.
//  2. `genosdb rtc offer` offers, Chromium answers and echoes: the C side sends 1,000
//     messages on two channels and a 16 MiB file and checks every echoed byte.
//
// Runs inside the network namespace made by rtc_browser.sh (Chromium gathers no loopback
// candidates); both peers use the namespace's veth address given as $RTC_ADDR.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const GENOSDB = process.env.GENOSDB;
const ADDR = process.env.RTC_ADDR || '10.250.0.1';
const FILE_BYTES = 16 * 1024 * 1024;
if (!GENOSDB) throw new Error('set GENOSDB to the genosdb binary');

function fail(msg) {
  console.error(`FAIL ${msg}`);
  process.exit(1);
}

// Spawns genosdb with args; returns {child, lines} where lines() awaits the next stdout line.
function runGenosdb(args) {
  const child = spawn(GENOSDB, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  const rl = createInterface({ input: child.stdout });
  const queue = [];
  const waiters = [];
  rl.on('line', (l) => (waiters.length ? waiters.shift()(l) : queue.push(l)));
  rl.on('close', () => waiters.splice(0).forEach((w) => w(null)));
  const exited = new Promise((res) => child.on('exit', (code) => res(code)));
  const line = (ms = 30000) =>
    queue.length
      ? Promise.resolve(queue.shift())
      : new Promise((res, rej) => {
          const t = setTimeout(() => rej(new Error('timed out waiting for genosdb output')), ms);
          waiters.push((l) => {
            clearTimeout(t);
            res(l);
          });
        });
  return { child, line, exited };
}

// Page-side helpers, installed into the page once.
const PAGE_HELPERS = `
  window.fill = (len, seed, binary) => {
    const b = new Uint8Array(len);
    let x = (seed * 2654435761 + 7) >>> 0;
    for (let i = 0; i < len; i++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      b[i] = binary ? (x >>> 16) & 255 : 97 + ((x >>> 16) % 26);
    }
    return b;
  };
  window.gathered = (pc) => new Promise((res) => {
    if (pc.iceGatheringState === 'complete') return res();
    pc.addEventListener('icegatheringstatechange', () => {
      if (pc.iceGatheringState === 'complete') res();
    });
  });
  window.opened = (dc) => new Promise((res, rej) => {
    if (dc.readyState === 'open') return res();
    dc.onopen = () => res();
    dc.onclose = () => rej(new Error('channel closed before opening'));
  });
`;

async function browserOffers(page) {
  const offer = await page.evaluate(async () => {
    window.pc = new RTCPeerConnection();
    window.msgCh = pc.createDataChannel('messages');
    window.bulkCh = pc.createDataChannel('bulk');
    msgCh.binaryType = bulkCh.binaryType = 'arraybuffer';
    await pc.setLocalDescription(await pc.createOffer());
    await gathered(pc);
    return pc.localDescription.sdp;
  });
  if (!/a=candidate:.* 10\.250\.0\.\d+ /.test(offer)) fail('Chromium offered no 10.250.0.x candidate');
  const c = runGenosdb(['rtc', 'answer', '--echo', '--bind', ADDR, '--timeout', '120']);
  c.child.stdin.write(JSON.stringify({ type: 'offer', sdp: offer }) + '\n');
  const answer = JSON.parse(await c.line());
  if (answer.type !== 'answer') fail('no answer from genosdb');
  const t0 = Date.now();
  const result = await page.evaluate(async ({ sdp, fileBytes }) => {
    const t = performance.now();
    await pc.setRemoteDescription({ type: 'answer', sdp });
    await Promise.all([opened(msgCh), opened(bulkCh)]);
    const connectMs = performance.now() - t;
    // 1,000 messages, text and binary, 0 B to 64 KiB, echoed in order.
    const sizes = [0, 1, 7, 100, 1000, 1199, 1200, 1201, 5000, 16384, 65535, 65536];
    const N = 1000;
    let got = 0, bad = 0;
    const done = new Promise((res) => {
      msgCh.onmessage = (e) => {
        const i = got++;
        const len = sizes[i % sizes.length], binary = i % 2 === 1;
        const want = fill(len, 1000 + i, binary);
        let ok;
        if (binary) {
          const v = new Uint8Array(e.data);
          ok = e.data instanceof ArrayBuffer && v.length === len && v.every((x, k) => x === want[k]);
        } else {
          ok = typeof e.data === 'string' && e.data === new TextDecoder().decode(want);
        }
        if (!ok) bad++;
        if (got === N) res();
      };
    });
    for (let i = 0; i < N; i++) {
      const len = sizes[i % sizes.length], binary = i % 2 === 1;
      const b = fill(len, 1000 + i, binary);
      msgCh.send(binary ? b : new TextDecoder().decode(b));
      if (msgCh.bufferedAmount > 4 << 20)
        await new Promise((r) => { msgCh.bufferedAmountLowThreshold = 1 << 20; msgCh.onbufferedamountlow = r; });
    }
    await done;
    // 16 MiB in 64 KiB chunks with flow control, echoed back and compared.
    const file = fill(fileBytes, 42, true);
    let echoed = 0, fileBad = 0;
    const t1 = performance.now();
    const fileDone = new Promise((res) => {
      bulkCh.onmessage = (e) => {
        const v = new Uint8Array(e.data);
        for (let k = 0; k < v.length; k++) if (v[k] !== file[echoed + k]) { fileBad++; break; }
        echoed += v.length;
        if (echoed >= fileBytes) res();
      };
    });
    bulkCh.bufferedAmountLowThreshold = 1 << 20;
    for (let at = 0; at < fileBytes; at += 65536) {
      bulkCh.send(file.subarray(at, at + 65536));
      if (bulkCh.bufferedAmount > 4 << 20)
        await new Promise((r) => (bulkCh.onbufferedamountlow = r));
    }
    await fileDone;
    const seconds = (performance.now() - t1) / 1000;
    // Closing one channel: 'close' fires once the C side reset its stream in reply.
    const closed = await new Promise((res) => {
      msgCh.onclose = () => res(true);
      setTimeout(() => res(false), 10000);
      msgCh.close();
    });
    // The other channel still carries messages after that.
    const after = await new Promise((res) => {
      bulkCh.onmessage = (e) => res(new Uint8Array(e.data).length);
      setTimeout(() => res(-1), 10000);
      bulkCh.send(new Uint8Array(1234));
    });
    const r = { connectMs, messages: got, bad, echoed, fileBad, mbps: fileBytes / 1e6 / seconds,
      channelClosed: closed, afterClose: after };
    pc.close();
    return r;
  }, { sdp: answer.sdp, fileBytes: FILE_BYTES });
  const end = JSON.parse(await c.line());
  const code = await c.exited;
  console.log('browser offers, C answers:', JSON.stringify(result), JSON.stringify(end), `${Date.now() - t0} ms`);
  if (result.messages !== 1000 || result.bad !== 0) fail('messages did not come back intact');
  if (result.echoed !== FILE_BYTES || result.fileBad !== 0) fail('16 MiB transfer did not come back intact');
  if (!result.channelClosed) fail('closing a channel from Chromium did not complete');
  if (result.afterClose !== 1234) fail('the remaining channel stopped working after a close');
  if (end.state !== 'closed' || code !== 0) fail(`genosdb answer ended with ${end.state}, exit ${code}`);
}

async function cOffers(page) {
  const dir = mkdtempSync(join(tmpdir(), 'gdb-interop-'));
  const file = join(dir, 'file.bin');
  const bytes = new Uint8Array(FILE_BYTES);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 131 + (i >>> 13)) & 255;
  writeFileSync(file, bytes);
  const c = runGenosdb(['rtc', 'offer', '--bind', ADDR, '--channels', '2', '--messages', '500',
    '--max-size', '65536', '--send-file', file, '--timeout', '120']);
  const offer = JSON.parse(await c.line());
  if (offer.type !== 'offer') fail('no offer from genosdb');
  const answer = await page.evaluate(async (sdp) => {
    window.pc2 = new RTCPeerConnection();
    window.echoed = 0;
    pc2.ondatachannel = (e) => {
      const ch = e.channel;
      ch.binaryType = 'arraybuffer';
      ch.onmessage = (m) => { ch.send(m.data); echoed++; };
    };
    await pc2.setRemoteDescription({ type: 'offer', sdp });
    await pc2.setLocalDescription(await pc2.createAnswer());
    await gathered(pc2);
    return pc2.localDescription.sdp;
  }, offer.sdp);
  c.child.stdin.write(JSON.stringify({ type: 'answer', sdp: answer }) + '\n');
  const report = JSON.parse(await c.line(120000));
  const code = await c.exited;
  console.log('C offers, browser answers:', JSON.stringify(report));
  if (!report.ok || code !== 0) fail(`genosdb offer reported failure (exit ${code})`);
  if (report.messages_verified !== 1000) fail('not all 1,000 messages verified');
  if (report.file_bytes_verified !== FILE_BYTES) fail('16 MiB file not verified');
  // The C side closed (SCTP shutdown, DTLS close_notify): the browser sees the connection end.
  const state = await page.evaluate(() => new Promise((res) => {
    const t0 = Date.now();
    const check = () => (pc2.connectionState !== 'connected' || Date.now() - t0 > 10000)
      ? res(pc2.connectionState) : setTimeout(check, 50);
    check();
  }));
  if (state === 'connected') fail('the browser still thinks it is connected after the C side closed');
  console.log('browser connection state after C closed:', state);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--allow-loopback-in-peer-connection', '--disable-features=WebRtcHideLocalIpsWithMdns'],
});
const timer = setTimeout(() => fail('interop test timed out after 300 s'), 300000);
try {
  const page = await browser.newPage();
  page.on('console', (m) => console.log('page:', m.text()));
  await page.setContent('<!doctype html><title>genosdb interop</title>');
  await page.evaluate(PAGE_HELPERS);
  await browserOffers(page);
  await cOffers(page);
  console.log('interop: ok');
} finally {
  clearTimeout(timer);
  await browser.close();
}
