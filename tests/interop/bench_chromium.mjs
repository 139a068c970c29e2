// bench_chromium.mjs — the `genosdb bench rtc` transfer between two Chromium tabs, for the
// side-by-side figures in docs/performance.md. Prints one JSON object:
//   connect_ms (median of 5), throughput_mb_s (one reliable ordered channel, 64 KiB messages,
//   --mb MiB), msgs_s (64-byte messages, --msgs of them).
// Run it through rtc_browser.sh (network namespace): `rtc_browser.sh bench_chromium.mjs`.
import { chromium } from 'playwright-core';

const arg = (name, def) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const MB = arg('--mb', 256), MSGS = arg('--msgs', 200000);

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--disable-features=WebRtcHideLocalIpsWithMdns'],
});
const timer = setTimeout(() => { console.error('bench timed out'); process.exit(1); }, 600000);
const [tx, rx] = [await browser.newPage(), await browser.newPage()];
for (const p of [tx, rx]) await p.setContent('<!doctype html><title>bench</title>');

const gathered = `(pc) => new Promise((res) => pc.iceGatheringState === 'complete' ? res() :
  pc.addEventListener('icegatheringstatechange', () => pc.iceGatheringState === 'complete' && res()))`;

// Connects tx -> rx with one channel; returns ms from creating the connections to open.
async function connect() {
  await rx.evaluate(() => { window.t0 = performance.now(); });
  const offer = await tx.evaluate(async (g) => {
    const gathered = eval(g);
    window.t0 = performance.now();
    window.pc?.close();
    window.pc = new RTCPeerConnection();
    window.ch = pc.createDataChannel('bench');
    ch.binaryType = 'arraybuffer';
    window.opened = new Promise((r) => (ch.onopen = r));
    await pc.setLocalDescription(await pc.createOffer());
    await gathered(pc);
    return pc.localDescription.sdp;
  }, gathered);
  const answer = await rx.evaluate(async ({ sdp, g }) => {
    const gathered = eval(g);
    window.pc?.close();
    window.pc = new RTCPeerConnection();
    window.got = 0; window.bytes = 0; window.expect = 0; window.doneAt = 0;
    pc.ondatachannel = (e) => {
      window.ch = e.channel;
      ch.binaryType = 'arraybuffer';
      ch.onmessage = (m) => {
        bytes += m.data.byteLength ?? m.data.length;
        if (++got === expect) doneAt = performance.now() + performance.timeOrigin;
      };
    };
    await pc.setRemoteDescription({ type: 'offer', sdp });
    await pc.setLocalDescription(await pc.createAnswer());
    await gathered(pc);
    return pc.localDescription.sdp;
  }, { sdp: offer, g: gathered });
  return tx.evaluate(async (sdp) => {
    await pc.setRemoteDescription({ type: 'answer', sdp });
    await opened;
    return performance.now() - t0;
  }, answer);
}

// Sends count messages of size bytes with flow control; returns seconds until rx got them all.
async function transfer(size, count) {
  await rx.evaluate((n) => { got = 0; bytes = 0; expect = n; doneAt = 0; }, count);
  const start = await tx.evaluate(async ({ size, count }) => {
    const buf = new Uint8Array(size).fill(0x5a);
    const t = performance.now() + performance.timeOrigin;
    ch.bufferedAmountLowThreshold = 2 << 20;
    for (let i = 0; i < count; i++) {
      ch.send(buf);
      if (ch.bufferedAmount > 8 << 20) await new Promise((r) => (ch.onbufferedamountlow = r));
    }
    return t;
  }, { size, count });
  for (let i = 0; i < 6000; i++) {
    const done = await rx.evaluate(() => doneAt);
    if (done) return (done - start) / 1000;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('transfer did not finish');
}

const connects = [];
for (let i = 0; i < 5; i++) connects.push(await connect());
connects.sort((a, b) => a - b);
const bigS = await transfer(65536, MB * 16);
const smallS = await transfer(64, MSGS);
console.log(JSON.stringify({
  suite: 'rtc-chromium', chromium: browser.version(), connect_ms: +connects[2].toFixed(1),
  throughput_mb_s: +((MB * 16 * 65536) / 1e6 / bigS).toFixed(1), throughput_bytes: MB * 16 * 65536,
  msgs_s: Math.round(MSGS / smallS), msgs: MSGS, msg_size: 64, chunk: 65536,
}));
clearTimeout(timer);
await browser.close();
