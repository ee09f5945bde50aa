import type { Hub } from '../hub/index.js';

const INTERVAL_MS = 60_000;

/**
 * Publishes the player-connection count as a CloudWatch embedded-metric-format log line every minute.
 * In AWS the task's stdout goes to CloudWatch Logs, which turns these lines into the metric the service
 * scales on; no CloudWatch API calls or credentials are needed.
 */
export function startMetrics(hub: Hub, service: string, write: (line: string) => void = defaultWrite): () => void {
  const emit = () => write(emfLine(service, hub.totalPlayers(), Date.now()));
  emit();
  const timer = setInterval(emit, INTERVAL_MS);
  timer.unref();
  return () => clearInterval(timer);
}

export function emfLine(service: string, playerConnections: number, timestamp: number): string {
  return JSON.stringify({
    _aws: {
      Timestamp: timestamp,
      CloudWatchMetrics: [
        {
          Namespace: 'Earshot',
          Dimensions: [['Service']],
          Metrics: [{ Name: 'PlayerConnections', Unit: 'Count' }],
        },
      ],
    },
    Service: service,
    PlayerConnections: playerConnections,
  });
}

function defaultWrite(line: string): void {
  process.stdout.write(`${line}\n`);
}
