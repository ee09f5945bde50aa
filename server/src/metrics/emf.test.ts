import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { Hub } from '../hub/index.js';
import { OfflineEngine } from '../engines/offline.js';
import { LocalStore } from '../store/local.js';
import { startMetrics } from './emf.js';

describe('CloudWatch embedded metric format', () => {
  it('publishes player connections and per-interval speech counts in the EMF shape CloudWatch extracts', async () => {
    const engine = new OfflineEngine();
    const hub = new Hub({
      engine,
      store: new LocalStore('/tmp/earshot-emf-test'),
      logger: pino({ level: 'silent' }),
    });
    const lines: string[] = [];
    const player = {
      id: 'p',
      sendJson: () => undefined,
      sendAudio: () => undefined,
      bufferedBytes: 0,
      close: () => undefined,
    };
    hub.connectPlayer('alice', player);
    const voice = { id: 'slt', name: 'Sally' };
    const job = {
      user: 'alice',
      voice,
      modelId: undefined,
      settings: {},
      source: 'api' as const,
      saveAudio: false,
    };
    await hub.speak({ ...job, text: 'One.' }).done;
    await hub.speak({ ...job, text: 'Two.', voice: { id: 'nope', name: 'Nope' } }).done;
    const stop = startMetrics(hub, 'earshot-svc', (line) => lines.push(line));
    stop();
    const record = JSON.parse(lines[0]!) as Record<string, unknown> & {
      _aws: {
        CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }[];
      };
    };
    const directive = record._aws.CloudWatchMetrics[0]!;
    expect(directive.Namespace).toBe('Earshot');
    expect(directive.Dimensions).toEqual([['Service']]);
    expect(directive.Metrics.map((m) => m.Name)).toEqual([
      'PlayerConnections',
      'SpeechRequests',
      'SpeechErrors',
    ]);
    expect(record).toMatchObject({
      Service: 'earshot-svc',
      PlayerConnections: 1,
      SpeechRequests: 2,
      SpeechErrors: 1,
    });
    await engine.close();
  });
});
