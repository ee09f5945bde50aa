import type { Fault, Standin } from '@earshot/elevenlabs-standin';
import { REAL_USER } from '../keys.js';
import { Player } from '../player.js';
import { Tally, type ScenarioSummary } from '../tally.js';
import { Target } from '../target.js';
import type { SuiteContext } from './context.js';

interface Probe {
  readonly label: string;
  readonly fault?: Fault;
  readonly via: 'rest' | 'mcp' | 'voices' | 'usage';
  /** A bound of its own: the long stall needs longer than a normal speech. */
  readonly deadlineMs?: number;
}

const SPEECH_PATH = /text-to-speech/;

/** Each fault the stand-in can inject, against the path that meets it, then a clean call to prove recovery. */
/** The short run keeps one probe per kind of answer (the 503 and MCP 429 probes repeat what 429 shows). */
function probes(full: boolean): Probe[] {
  const list: Probe[] = [
    { label: '401 on speech', fault: { status: 401, times: 3, path: SPEECH_PATH }, via: 'rest' },
    { label: '429 on speech', fault: { status: 429, times: 3, path: SPEECH_PATH }, via: 'rest' },
    { label: '500 on speech', fault: { status: 500, times: 3, path: SPEECH_PATH }, via: 'rest' },
    { label: '503 on speech', fault: { status: 503, times: 3, path: SPEECH_PATH }, via: 'rest' },
    { label: '429 on MCP speech', fault: { status: 429, times: 3, path: SPEECH_PATH }, via: 'mcp' },
    {
      label: 'reset before audio',
      fault: { kind: 'reset', afterBytes: 0, times: 3, path: SPEECH_PATH },
      via: 'rest',
    },
    {
      label: 'reset mid-stream',
      fault: { kind: 'reset', afterBytes: 6_000, path: SPEECH_PATH },
      via: 'rest',
    },
    {
      label: 'reset mid-stream (MCP)',
      fault: { kind: 'reset', afterBytes: 6_000, path: SPEECH_PATH },
      via: 'mcp',
    },
    {
      label: 'stall 1.5 s mid-stream',
      fault: { kind: 'stall', afterBytes: 4_000, ms: 1_500, path: SPEECH_PATH },
      via: 'rest',
    },
    { label: '500 on voices', fault: { status: 500, times: 3, path: /voices/ }, via: 'voices' },
    { label: '401 on subscription', fault: { status: 401, times: 3, path: /subscription/ }, via: 'usage' },
    { label: 'no fault (recovery)', via: 'rest' },
  ];
  if (!full)
    return list.filter((probe) => probe.label !== '503 on speech' && probe.label !== '429 on MCP speech');
  // Longer than the SDK's 30 s timeout: does a stalled stream end, or does the caller wait for ever?
  list.splice(list.length - 1, 0, {
    label: 'stall 60 s mid-stream',
    fault: { kind: 'stall', afterBytes: 4_000, ms: 60_000, path: SPEECH_PATH },
    via: 'rest',
    deadlineMs: 45_000,
  });
  return list;
}

/**
 * Upstream faults one at a time, each met by the real user's call: every one must end in a clear,
 * documented answer (a refusal such as 502 upstream_error, or success after a retry), never a 500, a
 * hang or a crash; the player gets `speech.error` with a code, and the next clean call works.
 */
export async function runUpstreamFaults(suite: SuiteContext, standin: Standin): Promise<ScenarioSummary> {
  const tally = new Tally('upstream-faults');
  const target = await Target.start({
    keys: suite.keys,
    scanner: suite.scanner,
    env: { ELEVENLABS_API_KEY: suite.keys.elevenLabs, ELEVENLABS_BASE_URL: standin.url },
  });
  let player: Player | undefined;
  try {
    player = await Player.connect(target.url, suite.keys.byUser[REAL_USER]);
    tally.rssBeforeKiB = target.sample()?.rssKiB ?? null;
    let n = 0;
    for (const probe of probes(suite.longStall)) {
      standin.clearFaults();
      if (probe.fault) standin.injectFault(probe.fault);
      const seen = player.messages.length;
      const text = `Upstream probe ${++n}: ${probe.label}. ${'This sentence makes the stream long enough to cut. '.repeat(4)}`;
      const deadline = probe.deadlineMs ?? 30_000;
      const response =
        probe.via === 'rest' || probe.via === 'mcp'
          ? (await target.realSpeak(text, probe.via, deadline)).response
          : await target.request(
              'GET',
              probe.via === 'voices' ? '/api/v1/voices?search=zz' : '/api/v1/usage',
              undefined,
              deadline,
            );
      const path =
        probe.via === 'mcp' ? '/mcp' : probe.via === 'rest' ? '/api/v1/speak' : `/api/v1/${probe.via}`;
      target.inspect(
        tally,
        probe.label,
        probe.via === 'voices' || probe.via === 'usage' ? 'GET' : 'POST',
        path,
        response,
      );
      tally.inputs++;
      const body = response.body.toString('utf8');
      const code = /"code"\s*:\s*"([a-z_]+)"/.exec(body)?.[1] ?? /\[([a-z_]+)\]/.exec(body)?.[1];
      const status = response.outcome === 'response' ? String(response.status) : response.outcome;
      const playerSaw = player.messages
        .slice(seen)
        .filter((m) => m.type === 'speech.error' || m.type === 'speech.end')
        .map((m) => (m.type === 'speech.error' ? `speech.error ${m.code}` : 'speech.end'));
      tally.note(
        `${probe.label} → ${status}${code ? ` ${code}` : ''}${playerSaw.length ? ` (player: ${playerSaw.join(', ')})` : ''} in ${Math.round(response.ms)} ms`,
      );
      if (probe.label.startsWith('no fault') && (response.status !== 200 || code)) {
        tally.find(
          'hang',
          `speech did not recover after the upstream faults: ${status} ${body.slice(0, 200)}`,
        );
      }
    }
    for (const message of player.messages) {
      if (message.type === 'speech.error' && message.code === 'internal')
        tally.find('5xx', 'player got speech.error "internal"');
    }
    tally.rssAfterKiB = target.sample()?.rssKiB ?? null;
  } finally {
    standin.clearFaults();
    player?.close();
    await target.stop(tally);
    tally.end();
  }
  return tally.summary();
}
