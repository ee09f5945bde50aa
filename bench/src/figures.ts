import type { TargetName } from './targets.js';

export type ScenarioId = 'a' | 'b' | 'c' | 'd' | 'e' | 'f';
export const SCENARIOS: readonly ScenarioId[] = ['a', 'b', 'c', 'd', 'e', 'f'];

export const SCENARIO_TITLES: Record<ScenarioId, string> = {
  a: 'a. Time to first audio beyond a direct upstream client, 1 speaker',
  b: 'b. Time to first audio beyond a direct upstream client, concurrent speakers',
  c: 'c. Users × players, many speaking at once',
  d: 'd. A call that does nothing',
  e: 'e. Start-up',
  f: 'f. Bytes to each player per second of speech',
};

export type Unit = 'ms' | 's' | 'MB' | '×' | 'kbit/s' | 'streams';

/** One figure's values in one run: Earshot's and, where the floor can do it, the floor relay's. */
export type FigureValues = Partial<Record<TargetName, number>>;

export interface Figure {
  readonly id: string;
  readonly scenario: ScenarioId;
  readonly label: string;
  readonly unit: Unit;
  /** Whether the floor relay can do this (it has no MCP, REST or CLI). */
  readonly floor: boolean;
  /** The target, when it sets one: how it reads, and whether one run's values meet it. */
  readonly target?: { readonly text: string; met(values: FigureValues): boolean | undefined };
}

const needFloor = (check: (earshot: number, floor: number) => boolean) => (values: FigureValues) =>
  values.earshot === undefined || values.floor === undefined
    ? undefined
    : check(values.earshot, values.floor);
const alone = (check: (earshot: number) => boolean) => (values: FigureValues) =>
  values.earshot === undefined ? undefined : check(values.earshot);

/** Scenario b's speaker count, in its labels (it changes with --quick). */
export function figureList(concurrentSpeakers: number): readonly Figure[] {
  const overhead = (scenario: 'a' | 'b', who: string): Figure[] => [
    {
      id: `${scenario}.overhead.p50`,
      scenario,
      label: `first audio beyond a direct client, ${who}, p50`,
      unit: 'ms',
      floor: true,
      target: { text: '≤ floor + 1 ms', met: needFloor((e, f) => e <= f + 1) },
    },
    {
      id: `${scenario}.overhead.p95`,
      scenario,
      label: `first audio beyond a direct client, ${who}, p95`,
      unit: 'ms',
      floor: true,
      target: { text: '≤ floor + 5 ms', met: needFloor((e, f) => e <= f + 5) },
    },
  ];
  // Inside each server (call-path-probe.ts): what a call costs on its way to ElevenLabs. No target of its own; it
  // says where a's and b's gaps come from. In b the server reads the next call of a burst only once the previous
  // one's request is out, so the tenth call's request leaves about ten of these after the burst began.
  const callPath = (scenario: 'a' | 'b', what: string): Figure[] => [
    {
      id: `${scenario}.callPath.cpu`,
      scenario,
      label: `${what} → its upstream request, server CPU, p50`,
      unit: 'ms',
      floor: true,
    },
    {
      id: `${scenario}.callPath.wall`,
      scenario,
      label: `${what} → its upstream request, wall time in the server, p50`,
      unit: 'ms',
      floor: true,
    },
  ];
  const noop = (kind: string, what: string, cpuTarget?: Figure['target']): Figure[] => [
    { id: `d.${kind}.ms`, scenario: 'd', label: `${what}: wall time per call`, unit: 'ms', floor: false },
    {
      id: `d.${kind}.cpu`,
      scenario: 'd',
      label: `${what}: server CPU per call`,
      unit: 'ms',
      floor: false,
      ...(cpuTarget ? { target: cpuTarget } : {}),
    },
  ];
  /** A start, read from Earshot's compile cache (`e.<kind>`) and with an empty one (`e.<kind>Cold`, the first). */
  const startup = (kind: string, what: string, targeted: boolean): Figure[] => {
    const target = targeted ? { target: { text: '≤ 1 s', met: alone((e) => e <= 1000) } } : {};
    return [
      { id: `e.${kind}`, scenario: 'e', label: what, unit: 'ms', floor: false, ...target },
      {
        id: `e.${kind}Cold`,
        scenario: 'e',
        label: `same, the first start after an install (empty compile cache)`,
        unit: 'ms',
        floor: false,
        ...target,
      },
    ];
  };
  return [
    ...overhead('a', '1 speaker'),
    ...callPath('a', 'call'),
    ...overhead('b', `${concurrentSpeakers} speakers at once`),
    ...callPath('b', 'each call of a burst'),
    {
      id: 'c.firstAudio.p95',
      scenario: 'c',
      label: 'first audio at each player, p95',
      unit: 'ms',
      floor: true,
      target: { text: '≤ floor × 1.25', met: needFloor((e, f) => e <= f * 1.25) },
    },
    {
      id: 'c.delivery.p5',
      scenario: 'c',
      label: 'delivery rate, slowest 5% of player streams (p5)',
      unit: '×',
      floor: true,
      target: { text: '≥ 1.0× real time', met: alone((e) => e >= 1) },
    },
    {
      id: 'c.delivery.min',
      scenario: 'c',
      label: 'delivery rate, slowest player stream',
      unit: '×',
      floor: true,
      target: { text: '≥ 1.0× for every stream', met: alone((e) => e >= 1) },
    },
    {
      id: 'c.cpu',
      scenario: 'c',
      label: 'server CPU for the speeches (utime+stime)',
      unit: 's',
      floor: true,
      target: { text: '≤ 1.5 × floor', met: needFloor((e, f) => e <= f * 1.5) },
    },
    {
      id: 'c.cpuAgain',
      scenario: 'c',
      label: 'server CPU, the same users speaking again (past first use)',
      unit: 's',
      floor: true,
    },
    {
      id: 'c.rss',
      scenario: 'c',
      label: 'server RSS, peak while connecting and speaking',
      unit: 'MB',
      floor: true,
      target: { text: '≤ 512 MB', met: alone((e) => e <= 512) },
    },
    {
      id: 'c.incomplete',
      scenario: 'c',
      label: 'player streams without their end (dropped, failed, timed out)',
      unit: 'streams',
      floor: true,
      target: { text: '0', met: alone((e) => e === 0) },
    },
    ...noop('mcp', 'MCP get_settings (JSON-RPC POST, 2025 revision)', {
      text: '≤ 0.5 ms CPU',
      met: alone((e) => e <= 0.5),
    }),
    ...noop('mcpModern', 'MCP get_settings (JSON-RPC POST, 2026-07-28)', {
      text: '≤ 0.5 ms CPU',
      met: alone((e) => e <= 0.5),
    }),
    ...noop('mcpSdk', 'MCP get_settings (official SDK client)', {
      text: '≤ 0.5 ms CPU',
      met: alone((e) => e <= 0.5),
    }),
    ...noop('rest', 'REST GET /api/v1/settings'),
    ...noop('healthz', 'GET /healthz'),
    ...startup('serve', '`earshot serve` spawned → /readyz 200', true),
    ...startup('mcp', '`earshot mcp` spawned (starts its own server) → initialize answered', true),
    ...startup(
      'mcpBridge',
      '`earshot mcp` spawned (EARSHOT_URL: bridge to a running server) → initialize answered',
      false,
    ),
    {
      id: 'f.audio',
      scenario: 'f',
      label: 'audio (binary frames) per second of speech, per player',
      unit: 'kbit/s',
      floor: true,
      target: { text: '≤ 64 kbit/s', met: alone((e) => e <= 64) },
    },
    {
      id: 'f.frames',
      scenario: 'f',
      label: 'all frames (audio + JSON) per second of speech, per player',
      unit: 'kbit/s',
      floor: true,
    },
  ];
}
