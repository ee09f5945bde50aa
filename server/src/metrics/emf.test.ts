import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { OfflineEngine } from '../engines/offline.js';
import { Hub, type PlayerConnection, type SpeechJob } from '../hub/index.js';
import { SqliteStore } from '../storage/index.js';
import { startMetrics } from './emf.js';

interface EmfRecord {
  _aws: {
    Timestamp: number;
    CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }[];
  };
  Service: string;
  PlayerConnections: number;
  SpeechRequests: number;
  SpeechErrors: number;
}

const MINUTE = 60_000;
const START = Date.UTC(2026, 0, 5, 9, 0, 0);

const player = (id: string): PlayerConnection => ({
  id,
  sendJson: () => undefined,
  sendText: () => undefined,
  sendAudio: () => undefined,
  flush: () => undefined,
  bufferedBytes: 0,
  close: () => undefined,
});

describe('CloudWatch embedded metric format', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'earshot-emf-'));
    // Only the metrics clock is faked: speech, the store and the engine run on real timers.
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'Date'], now: START });
  });
  afterEach(async () => {
    vi.useRealTimers();
    await rm(dir, { recursive: true, force: true });
  });

  it('publishes player connections and per-interval speech counts in the EMF shape CloudWatch extracts', async () => {
    const engine = new OfflineEngine();
    const store = SqliteStore.open({ dataDir: dir, integrityCheck: 'none', maintainOnOpen: false });
    const hub = new Hub({ engine, store, logger: pino({ level: 'silent' }) });
    const lines: string[] = [];
    const records = () => lines.map((line) => JSON.parse(line) as EmfRecord);
    const job: Omit<SpeechJob, 'text'> = {
      user: 'alice',
      voice: { id: 'slt', name: 'Sally' },
      modelId: undefined,
      settings: {},
      source: 'api',
      saveAudio: false,
    };
    const speak = (text: string, voice = job.voice) => hub.speak({ ...job, text, voice }).done;
    try {
      hub.connectPlayer('alice', player('p1'));
      expect((await speak('One.')).status).toBe('completed');
      const stop = startMetrics(hub, 'earshot-svc', (line) => lines.push(line));

      // Interval 1: one speech that works and one that fails.
      expect((await speak('Two.')).status).toBe('completed');
      expect((await speak('Three.', { id: 'nope', name: 'Nope' })).status).toBe('failed');
      vi.advanceTimersByTime(MINUTE);
      // Interval 2: no speech, a second player.
      hub.connectPlayer('alice', player('p2'));
      vi.advanceTimersByTime(MINUTE);
      // Interval 3: one speech.
      expect((await speak('Four.')).status).toBe('completed');
      vi.advanceTimersByTime(MINUTE);
      stop();
      vi.advanceTimersByTime(5 * MINUTE);

      const [first] = records();
      const directive = first!._aws.CloudWatchMetrics[0]!;
      expect(directive.Namespace).toBe('Earshot');
      expect(directive.Dimensions).toEqual([['Service']]);
      expect(directive.Metrics.map((m) => m.Name)).toEqual([
        'PlayerConnections',
        'SpeechRequests',
        'SpeechErrors',
      ]);
      // One line at start (what happened before it), one per minute, none after stop().
      expect(
        records().map((r) => [
          r._aws.Timestamp - START,
          r.PlayerConnections,
          r.SpeechRequests,
          r.SpeechErrors,
        ]),
      ).toEqual([
        [0, 1, 1, 0],
        [MINUTE, 1, 2, 1],
        [2 * MINUTE, 2, 0, 0],
        [3 * MINUTE, 2, 1, 0],
      ]);
      expect(records().every((r) => r.Service === 'earshot-svc')).toBe(true);
    } finally {
      await engine.close();
      await store.close();
    }
  });
});
