/**
 * Loaded into Earshot and into the floor relay (`node --import`, see targets.ts): measures the call path, from a
 * speech call's arrival to the upstream request it makes, inside the server itself. Node publishes both moments on
 * its diagnostics channels: `http.server.request.start` as a request's headers are parsed, and
 * `http.client.request.start` as an outgoing request is created. Between them this records the wall time and the
 * process's CPU time, so a reader sees whether the time to first audio is spent working or waiting, and how much
 * of it is work the floor does not do. process.cpuUsage, not threadCpuUsage: Linux brings a running thread's time
 * up to date for the first (RUSAGE_SELF) but not the second, whose figure moves only at scheduler ticks (measured
 * here: 0 for 0.2 ms of work, most of the time). The bench pins each server to one CPU, so its helper threads
 * (GC, compilers) run only in the main thread's gaps, and what they do in the interval is the call's cost too.
 *
 * One call at a time is paired with the next upstream request: a call that makes none (a no-op call, a refused
 * one) is replaced by the next call. That is exact in scenario a (one speaker, calls one after another) and in b
 * (a server reads the next call of a burst only once the previous one's request is out); the harness keeps a's
 * and b's samples, and reports how many it paired. The samples are written, as JSON, when the process exits:
 * nothing is written on the way to the first audio.
 *
 *   EARSHOT_BENCH_CALL_PATH_FILE=/path/samples.json node --import ./call-path-probe.js server.js
 */
import { subscribe } from 'node:diagnostics_channel';
import { writeFileSync } from 'node:fs';
import type { ClientRequest, IncomingMessage } from 'node:http';

/** One call: when it arrived (ms since the epoch), then the wall and CPU ms to its upstream request. */
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
  const cpuUs = () => {
    const usage = process.cpuUsage();
    return usage.user + usage.system;
  };

  subscribe('http.server.request.start', (message) => {
    const request = (message as { request: IncomingMessage }).request;
    if (request.method !== 'POST' || !CALL_PATHS.has(request.url ?? '')) return;
    pending = { at: performance.now(), cpuUs: cpuUs() };
  });
  subscribe('http.client.request.start', (message) => {
    const request = (message as { request: ClientRequest }).request;
    if (pending === undefined || !request.path.startsWith(UPSTREAM_PATH)) return;
    const cpuMs = (cpuUs() - pending.cpuUs) / 1000;
    const now = performance.now();
    if (samples.length === MAX_SAMPLES) samples.shift();
    samples.push([performance.timeOrigin + pending.at, now - pending.at, cpuMs]);
    pending = undefined;
  });
  process.on('exit', () => writeFileSync(file, JSON.stringify(samples)));
}
