/**
 * Loaded into Earshot and into the floor relay (`node --import`, see targets.ts): measures the call path, from a
 * speech call's arrival to the upstream request it makes, inside the server itself. Node publishes both moments on
 * its diagnostics channels: `http.server.request.start` as a request's headers are parsed, and
 * `http.client.request.start` as an outgoing request is created. Between them this records the wall time and the
 * main thread's CPU time (process.threadCpuUsage: V8's and libuv's helper threads left out), so a reader sees
 * whether the time to first audio is spent working or waiting, and how much of it is work the floor does not do.
 *
 * One call at a time is paired with the next upstream request: a call that makes none (a no-op call, a refused
 * one) is replaced by the next call. That is exact in scenario a (one speaker, calls one after another); the
 * harness keeps only a's samples. The samples are written, as JSON, when the process exits: nothing is written
 * on the way to the first audio.
 *
 *   EARSHOT_BENCH_CALL_PATH_FILE=/path/samples.json node --import ./call-path-probe.js server.js
 */
import { subscribe } from 'node:diagnostics_channel';
import { writeFileSync } from 'node:fs';
import type { ClientRequest, IncomingMessage } from 'node:http';

/** One call: when it arrived (ms since the epoch), then the wall and main-thread CPU ms to its upstream request. */
export type CallPathSample = readonly [arrivedAt: number, wallMs: number, cpuMs: number];

/** The calls that start a speech: Earshot's MCP endpoint, the floor's /speak. */
const CALL_PATHS = new Set(['/mcp', '/speak']);
/** The upstream requests that make one: ElevenLabs' text-to-speech streams. */
const UPSTREAM_PATH = '/v1/text-to-speech/';
/** Bounded: a long run keeps its last calls only (scenario a is a few dozen; c and d make thousands of calls). */
const MAX_SAMPLES = 20_000;

const file = process.env.EARSHOT_BENCH_CALL_PATH_FILE;
if (file) {
  const samples: CallPathSample[] = [];
  let pending: { readonly at: number; readonly cpuUs: number } | undefined;
  const threadCpuUs = () => {
    const usage = process.threadCpuUsage();
    return usage.user + usage.system;
  };

  subscribe('http.server.request.start', (message) => {
    const request = (message as { request: IncomingMessage }).request;
    if (request.method !== 'POST' || !CALL_PATHS.has(request.url ?? '')) return;
    pending = { at: performance.now(), cpuUs: threadCpuUs() };
  });
  subscribe('http.client.request.start', (message) => {
    const request = (message as { request: ClientRequest }).request;
    if (pending === undefined || !request.path.startsWith(UPSTREAM_PATH)) return;
    const cpuMs = (threadCpuUs() - pending.cpuUs) / 1000;
    const now = performance.now();
    if (samples.length === MAX_SAMPLES) samples.shift();
    samples.push([performance.timeOrigin + pending.at, now - pending.at, cpuMs]);
    pending = undefined;
  });
  process.on('exit', () => writeFileSync(file, JSON.stringify(samples)));
}
