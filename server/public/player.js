// Earshot player: receives speech over the /ws player channel and plays it through Web Audio as it
// arrives. Plain JavaScript (no build) served by the Earshot server; the full console replaces it.

const SUBPROTOCOL = 'earshot.v1';
const KEY_STORAGE = 'earshot.key';
/** Scheduling lead: audio is queued this far ahead of "now" so small network gaps do not click. */
const LEAD_SECONDS = 0.08;
const RECENT_MAX = 10;

const $ = (id) => document.getElementById(id);
const ui = {
  connection: $('connection'),
  keyForm: $('key-form'),
  keyInput: $('key-input'),
  keyError: $('key-error'),
  player: $('player'),
  enable: $('enable-audio'),
  audioHint: $('audio-hint'),
  nowText: $('now-text'),
  nowMeta: $('now-meta'),
  level: $('level'),
  stop: $('stop'),
  forgetKey: $('forget-key'),
  recent: $('recent'),
};

/** Counters the browser tests read; also handy in the devtools console. */
const stats = { chunks: 0, bytes: 0, peak: 0, played: [], started: [], errors: [], timeline: {} };
window.earshotPlayer = { stats };

let key = takeKey();
let socket = null;
let reconnectDelay = 500;
let reconnectTimer = null;
let audio = null; // { context, analyser, playhead, sources: Set }
const speeches = new Map(); // id -> { text, format, leftover, lastSource, ended, endedByServer }
let streaming = null; // id of the speech whose binary frames are arriving

function takeKey() {
  const match = /(?:^|[#&])key=([^&]+)/.exec(location.hash);
  if (match) {
    const fromUrl = decodeURIComponent(match[1]);
    localStorage.setItem(KEY_STORAGE, fromUrl);
    // Keep the key out of the address bar, history and screenshots.
    history.replaceState(null, '', location.pathname + location.search);
    return fromUrl;
  }
  return localStorage.getItem(KEY_STORAGE);
}

function setConnection(text, state) {
  ui.connection.textContent = text;
  ui.connection.dataset.state = state;
}

function base64url(text) {
  const bytes = new TextEncoder().encode(text);
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function showKeyForm(message) {
  ui.keyForm.hidden = false;
  ui.player.hidden = true;
  ui.keyError.textContent = message ?? '';
  ui.keyInput.focus();
}

async function start() {
  if (!key) return showKeyForm();
  // A WebSocket refused with 401 tells the page nothing; ask the REST API first to give a clear message.
  try {
    const response = await fetch('api/v1/settings', { headers: { authorization: `Bearer ${key}` } });
    if (response.status === 401) {
      localStorage.removeItem(KEY_STORAGE);
      key = null;
      return showKeyForm('That key was not accepted. Paste the key Earshot printed at start.');
    }
  } catch {
    // Server unreachable: connect() shows the state and retries.
  }
  ui.keyForm.hidden = true;
  ui.player.hidden = false;
  connect();
}

function connect() {
  clearTimeout(reconnectTimer);
  const url = new URL('ws', location.href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  setConnection('Connecting…', 'connecting');
  const ws = new WebSocket(url, [SUBPROTOCOL, `bearer.${base64url(key)}`]);
  ws.binaryType = 'arraybuffer';
  socket = ws;
  ws.onmessage = (event) => {
    if (typeof event.data === 'string') handleMessage(JSON.parse(event.data));
    else handleAudio(event.data);
  };
  ws.onclose = (event) => {
    if (socket !== ws) return;
    socket = null;
    const seconds = Math.round(reconnectDelay / 100) / 10;
    setConnection(
      `Disconnected${event.code === 1001 ? ' (server restarting)' : ''} — retrying in ${seconds} s`,
      'error',
    );
    reconnectTimer = setTimeout(connect, reconnectDelay);
    // Exponential backoff with jitter, capped, so many tabs do not reconnect in lockstep.
    reconnectDelay = Math.min(15_000, reconnectDelay * 2) * (0.8 + Math.random() * 0.4);
  };
}

function send(message) {
  if (socket?.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
}

function handleMessage(message) {
  switch (message.type) {
    case 'hello':
      reconnectDelay = 500;
      setConnection(`Connected as ${message.user} · ${message.engine} voice`, 'open');
      break;
    case 'speech.start':
      streaming = message.id;
      speeches.set(message.id, {
        text: message.text,
        format: message.audio,
        leftover: null,
        lastSource: null,
        ended: false,
      });
      stats.started.push(message.id);
      stats.timeline[message.id] = {
        startAt: performance.now(),
        firstAudioAt: null,
        peakBeforeEnd: 0,
        endAt: null,
      };
      ui.nowText.textContent = message.text;
      ui.nowMeta.textContent = `${message.voice.name} · from ${message.source}`;
      if (!audio) ui.nowMeta.textContent += ' · audio is not enabled: click "Enable audio" to hear it';
      if (document.hidden) document.title = '▶ Earshot — speaking';
      break;
    case 'speech.end':
      if (stats.timeline[message.id]) stats.timeline[message.id].endAt = performance.now();
      finishSpeech(message.id, `${(message.durationMs / 1000).toFixed(1)} s`);
      break;
    case 'speech.stopped':
      stopPlayback();
      finishSpeech(message.id, 'stopped');
      break;
    case 'speech.error':
      stats.errors.push(message);
      finishSpeech(message.id, `failed: ${message.message}`);
      ui.nowMeta.textContent = `Could not speak: ${message.message}`;
      break;
    case 'settings.changed':
    case 'pong':
      break;
  }
}

function handleAudio(buffer) {
  const speech = speeches.get(streaming);
  stats.chunks += 1;
  stats.bytes += buffer.byteLength;
  if (!speech || !audio || speech.format.mimeType !== 'audio/pcm') return;
  let bytes = new Uint8Array(buffer);
  // 16-bit samples can straddle two frames: carry an odd byte over to the next frame.
  if (speech.leftover) {
    const joined = new Uint8Array(bytes.length + 1);
    joined[0] = speech.leftover;
    joined.set(bytes, 1);
    bytes = joined;
    speech.leftover = null;
  }
  if (bytes.length % 2 === 1) {
    speech.leftover = bytes[bytes.length - 1];
    bytes = bytes.subarray(0, bytes.length - 1);
  }
  if (bytes.length === 0) return;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const samples = new Float32Array(bytes.length / 2);
  for (let i = 0; i < samples.length; i++) samples[i] = view.getInt16(i * 2, true) / 32768;
  const clip = audio.context.createBuffer(1, samples.length, speech.format.sampleRate);
  clip.copyToChannel(samples, 0);
  const source = audio.context.createBufferSource();
  source.buffer = clip;
  source.connect(audio.analyser);
  const startAt = Math.max(audio.playhead, audio.context.currentTime + LEAD_SECONDS);
  source.start(startAt);
  audio.playhead = startAt + clip.duration;
  audio.sources.add(source);
  source.onended = () => {
    audio?.sources.delete(source);
    if (speech.ended && speech.lastSource === source) reportPlayed(streamingIdOf(speech));
  };
  speech.lastSource = source;
  const timeline = stats.timeline[streaming];
  if (timeline && timeline.firstAudioAt === null) timeline.firstAudioAt = performance.now();
}

function streamingIdOf(speech) {
  for (const [id, candidate] of speeches) if (candidate === speech) return id;
  return null;
}

function finishSpeech(id, note) {
  const speech = speeches.get(id);
  if (streaming === id) streaming = null;
  if (!speech) return;
  speech.ended = true;
  addRecent(speech.text, note);
  // With audio off the user heard nothing: never claim "played" (speak with wait: "played" then times out).
  if (!audio) {
    speeches.delete(id);
    return;
  }
  // Nothing left scheduled (no audio at all, or it already finished): report now.
  if (!speech.lastSource || audio.playhead <= audio.context.currentTime) reportPlayed(id);
}

function reportPlayed(id) {
  if (!id || !speeches.has(id)) return;
  speeches.delete(id);
  stats.played.push(id);
  send({ type: 'played', id });
  if (speeches.size === 0) document.title = 'Earshot player';
}

function stopPlayback() {
  if (!audio) return;
  for (const source of audio.sources) source.stop();
  audio.sources.clear();
  audio.playhead = 0;
}

function addRecent(text, note) {
  const item = document.createElement('li');
  item.textContent = text;
  const meta = document.createElement('span');
  meta.className = 'meta';
  meta.textContent = `${new Date().toLocaleTimeString()} · ${note}`;
  item.append(meta);
  ui.recent.prepend(item);
  while (ui.recent.children.length > RECENT_MAX) ui.recent.lastElementChild.remove();
}

async function enableAudio() {
  if (!audio) {
    const context = new AudioContext();
    const analyser = context.createAnalyser();
    analyser.fftSize = 1024;
    analyser.connect(context.destination);
    audio = { context, analyser, playhead: 0, sources: new Set() };
    meterLoop();
  }
  await audio.context.resume();
  ui.enable.textContent = 'Audio on';
  ui.enable.disabled = true;
  ui.audioHint.textContent = 'Audio is on. Speech plays as soon as it arrives.';
}

/** Reads the real output level from the analyser: what the speakers get, not what the network sent. */
function meterLoop() {
  const samples = new Float32Array(audio.analyser.fftSize);
  const tick = () => {
    audio.analyser.getFloatTimeDomainData(samples);
    let peak = 0;
    for (const sample of samples) peak = Math.max(peak, Math.abs(sample));
    stats.peak = Math.max(stats.peak, peak);
    // Which speech is audible while its generation is still running (no speech.end yet).
    const live = streaming && stats.timeline[streaming];
    if (live && live.endAt === null) live.peakBeforeEnd = Math.max(live.peakBeforeEnd, peak);
    ui.level.value = peak;
  };
  // Timers keep measuring in background tabs, where animation frames stop.
  setInterval(tick, 50);
}

ui.keyForm.addEventListener('submit', (event) => {
  event.preventDefault();
  key = ui.keyInput.value.trim();
  if (!key) return;
  localStorage.setItem(KEY_STORAGE, key);
  ui.keyInput.value = '';
  void start();
});
ui.enable.addEventListener('click', () => void enableAudio());
ui.stop.addEventListener('click', () => {
  stopPlayback();
  send({ type: 'stop' });
});
ui.forgetKey.addEventListener('click', () => {
  localStorage.removeItem(KEY_STORAGE);
  key = null;
  socket?.close();
  socket = null;
  clearTimeout(reconnectTimer);
  setConnection('Not connected', 'idle');
  showKeyForm();
});
document.addEventListener('keydown', (event) => {
  if (event.key === 'Escape') {
    stopPlayback();
    send({ type: 'stop' });
  }
});
document.addEventListener('visibilitychange', () => {
  if (!document.hidden && speeches.size === 0) document.title = 'Earshot player';
});

void start();
