// Measures camera-to-screen latency of an HLS stream whose pictures carry their capture time (the `latency` verb of
// MediaServer.Benchmarks draws it): plays the URL in headless Chromium with hls.js, and for every presented frame
// (requestVideoFrameCallback) reads the 44-bit millisecond clock from the top row of blocks via a canvas and
// compares it with the wall clock. Prints one JSON line:
// {"ok":bool,"samples":n,"p50":ms,"p95":ms,"max":ms,"stalls":n,"parts":n,"fragments":n,"hlsLatency":s,"errors":[...]}
// usage: node latency.mjs <url> <ll|classic> <seconds to measure> [warm-up seconds] [hls.js config as JSON, merged in]
import { chromium } from 'playwright-core';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const [url, mode = 'll', seconds = '30', warmup = '5', extraConfig = '{}'] = process.argv.slice(2);
const config = JSON.parse(extraConfig);
const measureMs = Number(seconds) * 1000;
const warmupMs = Number(warmup) * 1000;
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--autoplay-policy=no-user-gesture-required'],
});
const deadline = setTimeout(() => { console.log(JSON.stringify({ ok: false, errors: ['global timeout'] })); process.exit(2); }, measureMs + warmupMs + 90_000);
try {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', e => errors.push('pageerror: ' + e.message));
  await page.setContent(`<video id="v" muted autoplay playsinline></video><canvas id="c" width="640" height="16"></canvas>`);
  await page.addScriptTag({ path: require.resolve('hls.js/dist/hls.min.js') });
  await page.evaluate(({ url, mode, config }) => {
    const video = document.getElementById('v');
    const canvas = document.getElementById('c');
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    const hls = new Hls({ lowLatencyMode: mode === 'll', ...config });
    window.__s = { samples: [], stalls: 0, parts: 0, fragments: 0, errors: [], hls };
    hls.on(Hls.Events.ERROR, (_, d) => {
      if (d.details === 'bufferStalledError') window.__s.stalls++;
      if (d.fatal) window.__s.errors.push(d.type + ':' + d.details);
    });
    hls.on(Hls.Events.FRAG_LOADED, (_, d) => { if (d.part) window.__s.parts++; else window.__s.fragments++; });
    hls.loadSource(url);
    hls.attachMedia(video);
    video.play().catch(() => {});
    // The clock: 44 blocks of 14 px across the top 14 rows of a 640-wide picture, most significant bit first,
    // white = 1; the picture is scaled to the canvas width, so a block's centre is read.
    const onFrame = () => {
      const now = Date.now();
      if (video.videoWidth > 0) {
        ctx.drawImage(video, 0, 0, 640, Math.round(640 * video.videoHeight / video.videoWidth));
        const row = ctx.getImageData(0, 7, 640, 1).data;
        let value = 0;
        for (let bit = 0; bit < 44; bit++) {
          const x = bit * 14 + 7;
          value = value * 2 + (row[x * 4] > 128 ? 1 : 0);
        }
        const latency = now - value;
        if (latency > -1000 && latency < 60_000) window.__s.samples.push([now, latency]);
      }
      video.requestVideoFrameCallback(onFrame);
    };
    video.requestVideoFrameCallback(onFrame);
  }, { url, mode, config });

  const started = Date.now();
  await new Promise(r => setTimeout(r, warmupMs + measureMs));
  const state = await page.evaluate(({ from }) => {
    const s = window.__s;
    return { samples: s.samples.filter(([t]) => t >= from).map(([, l]) => l), stalls: s.stalls, parts: s.parts,
      fragments: s.fragments, hlsLatency: s.hls.latency, errors: s.errors };
  }, { from: started + warmupMs });
  const sorted = [...state.samples].sort((a, b) => a - b);
  const at = q => sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : null;
  const all = [...errors, ...state.errors];
  console.log(JSON.stringify({ ok: sorted.length > 0 && all.length === 0, samples: sorted.length, p50: at(0.5), p95: at(0.95), p99: at(0.99),
    max: sorted.length ? sorted[sorted.length - 1] : null, stalls: state.stalls, parts: state.parts, fragments: state.fragments,
    hlsLatency: state.hlsLatency, errors: all }));
} finally {
  clearTimeout(deadline);
  await browser.close();
}
