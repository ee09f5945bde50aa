import type { Hub } from '../hub/index.js';

const INTERVAL_MS = 60_000;

/**
 * Publishes player connections (gauge) and speeches and failed speeches in the last interval as a
 * CloudWatch embedded-metric-format log line every minute.
 * In AWS the task's stdout goes to CloudWatch Logs, which turns these lines into the metric the service
 * scales on; no CloudWatch API calls or credentials are needed.
 */
export function startMetrics(
  hub: Hub,
  service: string,
  write: (line: string) => void = defaultWrite,
): () => void {
  let reported = { speeches: 0, failures: 0 };
  const emit = () => {
    const now = { ...hub.counters };
    const sample = {
      playerConnections: hub.totalPlayers(),
      speechRequests: now.speeches - reported.speeches,
      speechErrors: now.failures - reported.failures,
    };
    reported = now;
    write(emfLine(service, sample, Date.now()));
  };
  emit();
  const timer = setInterval(emit, INTERVAL_MS);
  timer.unref();
  return () => clearInterval(timer);
}

export interface MetricsSample {
  readonly playerConnections: number;
  readonly speechRequests: number;
  readonly speechErrors: number;
}

export function emfLine(service: string, sample: MetricsSample, timestamp: number): string {
  return JSON.stringify({
    _aws: {
      Timestamp: timestamp,
      CloudWatchMetrics: [
        {
          Namespace: 'Earshot',
          Dimensions: [['Service']],
          Metrics: [
            { Name: 'PlayerConnections', Unit: 'Count' },
            { Name: 'SpeechRequests', Unit: 'Count' },
            { Name: 'SpeechErrors', Unit: 'Count' },
          ],
        },
      ],
    },
    Service: service,
    PlayerConnections: sample.playerConnections,
    SpeechRequests: sample.speechRequests,
    SpeechErrors: sample.speechErrors,
  });
}

function defaultWrite(line: string): void {
  process.stdout.write(`${line}\n`);
}
