#!/usr/bin/env node
// The stand-in as a process, for manual use and benchmarks:
//   node testing/elevenlabs-standin/dist/main.js --port 8787 --key test-key --rtf 2 --first-byte-ms 300 --prerendered
import { parseArgs } from 'node:util';
import { startStandin } from './server.js';

const USAGE = `Usage: elevenlabs-standin [--port N] [--key KEY]... [--rtf N] [--first-byte-ms N]
                          [--chunk-bytes N] [--chunk-interval-ms N] [--max-concurrent N] [--prerendered]

A local server that speaks the ElevenLabs text-to-speech wire format with Flite voices.
  --port               port on 127.0.0.1 (default 8787; 0 picks a free one)
  --key                accepted xi-api-key, repeatable (default test-key)
  --rtf                deliver audio N× faster than real time (default: as fast as possible)
  --first-byte-ms      delay before headers and the first audio byte (default 0)
  --chunk-bytes        bytes per streamed chunk (default 4096)
  --chunk-interval-ms  minimum time between chunks (default 0)
  --max-concurrent     concurrent TTS requests before 429 (default 10)
  --prerendered        synthesise each distinct text once, replay its bytes after (benchmarks)`;

function numberOption(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < 0) throw new Error(`--${name} needs a number ≥ 0, got "${value}"`);
  return parsed;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string' },
      key: { type: 'string', multiple: true },
      rtf: { type: 'string' },
      'first-byte-ms': { type: 'string' },
      'chunk-bytes': { type: 'string' },
      'chunk-interval-ms': { type: 'string' },
      'max-concurrent': { type: 'string' },
      prerendered: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const rtf = numberOption(values.rtf, 'rtf');
  const firstByteLatencyMs = numberOption(values['first-byte-ms'], 'first-byte-ms');
  const chunkBytes = numberOption(values['chunk-bytes'], 'chunk-bytes');
  const chunkIntervalMs = numberOption(values['chunk-interval-ms'], 'chunk-interval-ms');
  const standin = await startStandin({
    port: numberOption(values.port, 'port') ?? 8787,
    apiKeys: values.key ?? ['test-key'],
    maxConcurrentRequests: numberOption(values['max-concurrent'], 'max-concurrent'),
    prerendered: values.prerendered === true,
    pacing: {
      ...(rtf === undefined ? {} : { realtimeFactor: rtf }),
      ...(firstByteLatencyMs === undefined ? {} : { firstByteLatencyMs }),
      ...(chunkBytes === undefined ? {} : { chunkBytes }),
      ...(chunkIntervalMs === undefined ? {} : { chunkIntervalMs }),
    },
  });
  process.stdout.write(`${standin.url}\n`);
  const stop = () => void standin.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  console.error(`elevenlabs-standin: ${error instanceof Error ? error.message : String(error)}`);
  console.error(USAGE);
  process.exit(1);
});
