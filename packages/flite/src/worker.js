// Runs Flite (compiled to WASI, hosted by our small in-memory WASI shim) off the main thread: one
// synthesis blocks for tens of milliseconds (seconds for pathological text), which would stall every
// audio stream on the event loop. One job at a time; the pool terminates the thread to interrupt a run.
// Plain JavaScript so the same file loads from src/ (tests) and dist/ (production) without a loader.
import { parentPort, workerData } from 'node:worker_threads';
import { encodeClip } from './opus/opus.js';
import { createWasiHost, WasiExit } from './wasi-shim.js';

// The WebAssembly global is not in Node's type definitions without the DOM library.
const WebAssembly = /** @type {any} */ (globalThis).WebAssembly;
// Compiled once on the main thread and shared: no compile here, so a new worker starts in milliseconds.
const module = /** @type {{ module: unknown }} */ (workerData).module;
const OUTPUT = '/work/out.wav';

/**
 * Runs the Flite program once (a fresh instance per text: its main() is not re-entrant).
 * @param {{ id: number, text: string, voice: string, durationStretch: number }} job
 * @returns {{ sampleRate: number, pcm: ArrayBuffer }}
 */
function synthesize(job) {
  const args = [
    'flite',
    '-voice',
    job.voice,
    '--setf',
    `duration_stretch=${job.durationStretch}`,
    '-t',
    job.text,
    '-o',
    OUTPUT,
  ];
  const host = createWasiHost(args, '/work');
  const instance = new WebAssembly.Instance(module, host.imports);
  host.setMemory(instance.exports.memory);
  let code = 0;
  try {
    instance.exports._start();
  } catch (error) {
    if (!(error instanceof WasiExit)) throw error;
    code = error.code;
  }
  const wav = host.file(OUTPUT);
  if (code !== 0 || !wav)
    throw new Error(`flite exited with code ${code}: ${host.stderr().trim().slice(0, 200)}`);
  return parseWav(Buffer.from(wav.buffer, wav.byteOffset, wav.byteLength));
}

/** Finds the fmt and data chunks of a RIFF/WAVE file written by Flite (16-bit mono PCM). */
function parseWav(/** @type {Buffer} */ wav) {
  if (wav.toString('ascii', 0, 4) !== 'RIFF' || wav.toString('ascii', 8, 12) !== 'WAVE') {
    throw new Error('flite wrote something that is not a WAV file');
  }
  let offset = 12;
  let sampleRate = 0;
  while (offset + 8 <= wav.length) {
    const id = wav.toString('ascii', offset, offset + 4);
    const size = wav.readUInt32LE(offset + 4);
    if (id === 'fmt ') sampleRate = wav.readUInt32LE(offset + 12);
    if (id === 'data') {
      const end = Math.min(wav.length, offset + 8 + size);
      const pcm = new Uint8Array(wav.subarray(offset + 8, end)).buffer; // a copy we can transfer
      return { sampleRate, pcm };
    }
    offset += 8 + size + (size % 2);
  }
  throw new Error('flite wrote a WAV file without audio data');
}

/**
 * The clip as Opus packets, when asked: encoding here keeps it off the main thread, where a minute of speech
 * (Flite makes one in about a second) would cost it tens of milliseconds of CPU.
 * @param {{ sampleRate: number, pcm: ArrayBuffer }} audio
 * @param {number} bitrate
 */
function encode(audio, bitrate) {
  const packets = encodeClip(new Int16Array(audio.pcm), /** @type {any} */ (audio.sampleRate), bitrate);
  const sizes = packets.map((packet) => packet.length);
  const opus = new Uint8Array(sizes.reduce((sum, size) => sum + size, 0));
  let offset = 0;
  for (const packet of packets) {
    opus.set(packet, offset);
    offset += packet.length;
  }
  return { opus: opus.buffer, opusSizes: sizes };
}

parentPort?.on('message', (/** @type {any} */ message) => {
  try {
    const result = synthesize(message);
    if (message.opusBitrate) {
      const encoded = encode(result, message.opusBitrate);
      parentPort?.postMessage({ id: message.id, ...result, ...encoded }, [result.pcm, encoded.opus]);
      return;
    }
    parentPort?.postMessage({ id: message.id, ...result }, [result.pcm]);
  } catch (error) {
    parentPort?.postMessage({ id: message.id, error: /** @type {Error} */ (error).message });
  }
});
parentPort?.postMessage({ ready: true });
