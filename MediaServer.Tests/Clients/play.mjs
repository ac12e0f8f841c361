// Plays an HLS URL in headless Chromium with hls.js or video.js (as the product page's snippets do) and
// prints one JSON line: {"ok":bool,"currentTime":s,"videoWidth":px,"errors":[...]}.
// usage: node play.mjs <hls|hls-page|videojs> <url> [authorization header value] [seconds to play]
import { chromium } from 'playwright-core';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const [player, url, token = '', seconds = '3'] = process.argv.slice(2);
const want = Number(seconds);

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--autoplay-policy=no-user-gesture-required'],
});
const deadline = setTimeout(() => { console.log(JSON.stringify({ ok: false, errors: ['global timeout'] })); process.exit(2); }, Math.max(90_000, want * 1000 + 60_000));
try {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', e => errors.push('pageerror: ' + e.message));
  if (player === 'videojs') {
    await page.setContent(`<link rel="stylesheet"><video id="my-video" class="video-js" controls muted autoplay preload="auto" width="640" height="264"></video>`);
    await page.addStyleTag({ path: require.resolve('video.js/dist/video-js.css') });
    await page.addScriptTag({ path: require.resolve('video.js/dist/video.min.js') });
    // The page's HTML snippet: a <source> of type application/x-mpegURL and the Authorization header added in beforeRequest.
    await page.evaluate(({ url, token }) => {
      if (token) {
        videojs.Hls.xhr.beforeRequest = (options) => {
          options.headers = { ...options.headers, Authorization: token };
          return options;
        };
      }
      const p = videojs('my-video');
      p.on('error', () => window.__errors = (window.__errors || []).concat(JSON.stringify(p.error())));
      p.src({ src: url, type: 'application/x-mpegURL' });
      p.play().catch(e => window.__errors = (window.__errors || []).concat('play: ' + e.message));
    }, { url, token });
  } else {
    await page.setContent(`<video id="v" muted autoplay playsinline></video>`);
    await page.addScriptTag({ path: require.resolve('hls.js/dist/hls.min.js') });
    await page.evaluate(({ url, token, player, trace }) => {
      const video = document.getElementById('v');
      // 'hls-page': the product page's React snippet configuration, verbatim.
      const pageConfig = player !== 'hls-page' ? {} : {
        maxLoadingDelay: 1, defaultAudioCodec: "mp4a.40.2", maxBufferLength: 0, maxMaxBufferLength: 1, startLevel: 0,
        startPosition: -1, maxBufferHole: 0.001, highBufferWatchdogPeriod: 0, nudgeOffset: 0.05, nudgeMaxRetry: 1,
        maxFragLookUpTolerance: 0.1, liveSyncDurationCount: 1, abrEwmaFastLive: 1, abrEwmaSlowLive: 3, abrEwmaFastVoD: 1,
        abrEwmaSlowVoD: 3, maxStarvationDelay: 1,
      };
      const debugLog = [];
      window.__debugLog = debugLog;
      const keep = (...a) => { const m = a.join(' '); if (trace && /Tune-in|playlist|directive|Omitting/i.test(m) && debugLog.length < 60) debugLog.push(m); };
      const hls = new Hls({ ...pageConfig, ...(trace ? { debug: { log: keep, info: keep, warn: keep, debug: keep, error: keep } } : {}), xhrSetup: (xhr) => { if (token) xhr.setRequestHeader('Authorization', token); } });
      hls.on(Hls.Events.ERROR, (_, d) => { if (d.fatal) window.__errors = (window.__errors || []).concat(d.type + ':' + d.details + (d.response && d.response.code ? ':' + d.response.code : '')); });
      window.__parts = 0; window.__fragments = 0; window.__stalls = 0;
      hls.on(Hls.Events.FRAG_LOADED, (_, d) => { if (d.part) window.__parts++; else window.__fragments++; });
      window.__stallLog = [];
      const t0 = Date.now();
      hls.on(Hls.Events.ERROR, (_, d) => {
        if (d.details !== 'bufferStalledError') return;
        window.__stalls++;
        const b = video.buffered;
        window.__stallLog.push({ at: (Date.now() - t0) / 1000, currentTime: video.currentTime,
          bufferedEnd: b.length ? b.end(b.length - 1) : null,
          ranges: Array.from({ length: b.length }, (_, i) => b.start(i).toFixed(3) + '-' + b.end(i).toFixed(3)).slice(-4),  latency: hls.latency, targetLatency: hls.targetLatency });
      });
      if (trace) {
        window.__trace = [];
        const t1 = Date.now();
        const note = (e, x) => { if (window.__trace.length < 200) window.__trace.push(((Date.now() - t1) / 1000).toFixed(3) + ' ' + e + ' ' + x); };
        hls.on(Hls.Events.FRAG_LOADING, (_, d) => note('frag', d.frag.sn + '.' + (d.part ? d.part.index : '-')));
        hls.on(Hls.Events.FRAG_BUFFERED, (_, d) => note('buffered', d.frag.sn + '.' + (d.part ? d.part.index : '-') + ' end ' + (video.buffered.length ? video.buffered.end(video.buffered.length - 1).toFixed(3) : '-')));
        hls.on(Hls.Events.LEVEL_LOADED, (_, d) => note('level', d.details.lastPartSn + '.' + d.details.lastPartIndex + ' edge ' + d.details.edge.toFixed(3) + ' live ' + d.details.live));
        hls.on(Hls.Events.ERROR, (_, d) => note('error', d.details));
      }
      window.__hls = hls;
      hls.loadSource(url);
      hls.attachMedia(video);
      video.play().catch(() => {});
    }, { url, token, player, trace: !!process.env.PLAY_TRACE });
  }

  const started = Date.now();
  let state = {};
  while (Date.now() - started < Math.max(60_000, want * 1000 + 30_000)) {
    state = await page.evaluate(() => {
      const v = document.querySelector('video');
      return { currentTime: v.currentTime, videoWidth: v.videoWidth, errors: window.__errors || [],
        parts: window.__parts || 0, fragments: window.__fragments || 0, stalls: window.__stalls || 0,
        latency: window.__hls ? window.__hls.latency : null, stallLog: window.__stallLog || [], trace: window.__trace, debugLog: window.__debugLog };
    });
    if (state.currentTime >= want || state.errors.length > 0) break;
    await new Promise(r => setTimeout(r, 250));
  }
  const all = [...errors, ...(state.errors || [])];
  console.log(JSON.stringify({ ok: state.currentTime >= want && all.length === 0, currentTime: state.currentTime, videoWidth: state.videoWidth, errors: all,
    parts: state.parts || 0, fragments: state.fragments || 0, stalls: state.stalls || 0, latency: state.latency,
    stallLog: state.stallLog || [], ...(state.trace ? { trace: state.trace, debugLog: state.debugLog } : {}) }));
} finally {
  clearTimeout(deadline);
  await browser.close();
}
