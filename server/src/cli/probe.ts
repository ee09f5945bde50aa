import { request as httpsRequest } from 'node:https';
import { createRequire } from 'node:module';
import { readBoundedJson } from '../bounded-json.js';

// node:http through require, as in engines/elevenlabs-http.ts: its ESM namespace would load undici, Node's fetch
// stack (~75 ms). fetch would load it too (~90 ms): `earshot mcp` probes before it starts its own server, and
// that server, serving stdio in process, never needs fetch.
const { request: httpRequest } = createRequire(import.meta.url)('node:http') as typeof import('node:http');

/**
 * How long the probe waits for /healthz. A closed port refuses at once, so this only bites on something that
 * accepts and then says nothing; a real server on a loaded machine (a build beside it, several CLIs starting at
 * once) or across the internet can take seconds, and taking it for "no server" sends the user the wrong way.
 */
const PROBE_TIMEOUT_MS = 10_000;
/** /healthz answers a few dozen bytes; something that sends more is not Earshot. */
const MAX_BODY_BYTES = 16 * 1024;

/** Whether an Earshot server answers at `baseUrl` (its /healthz, status ok) within PROBE_TIMEOUT_MS. */
export function isEarshot(baseUrl: string): Promise<boolean> {
  return new Promise((resolve) => {
    let url: URL;
    try {
      url = new URL(`${baseUrl}/healthz`);
    } catch {
      return resolve(false);
    }
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    // Once an answer came, reading its body settles the probe (readBoundedJson settles however it ends).
    let answered = false;
    // A connection of its own, closed after: nothing pooled keeps a short-lived CLI process alive.
    const probe = send(
      url,
      { method: 'GET', agent: false, headers: { accept: 'application/json' } },
      (response) => {
        answered = true;
        readBoundedJson(response, MAX_BODY_BYTES, 'the /healthz answer').then(
          (body) =>
            done(response.statusCode === 200 && (body as { status?: unknown } | null)?.status === 'ok'),
          () => done(false),
        );
      },
    );
    // The whole exchange, not each socket read: something that trickles bytes is not waited on for ever.
    const timer = setTimeout(() => probe.destroy(), PROBE_TIMEOUT_MS);
    const done = (answer: boolean) => {
      clearTimeout(timer);
      resolve(answer);
    };
    probe.on('error', () => done(false));
    probe.on('close', () => {
      if (!answered) done(false);
    });
    probe.end();
  });
}
