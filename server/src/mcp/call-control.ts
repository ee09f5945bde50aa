import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { ServerNotification, ServerRequest } from '@modelcontextprotocol/sdk/types.js';
import type { StartedSpeech } from '../services/speech.js';
import type { CallerContext, ToolDeps } from './context.js';

type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;

/** How often progress notifications may go out while audio streams. */
const PROGRESS_INTERVAL_MS = 250;

/**
 * MCP progress for a call, when the client asked for it (`_meta.progressToken`): strictly increasing
 * values, at most every 250 ms for audio, never failing the call if the client has gone.
 */
export function progressReporter(extra: Extra) {
  const token = extra._meta?.progressToken;
  let last = 0;
  let lastAudioAt = 0;
  const send = (progress: number, message: string) => {
    if (token === undefined || progress <= last) return;
    last = progress;
    void extra
      .sendNotification({
        method: 'notifications/progress',
        params: { progressToken: token, progress, message },
      })
      .catch(() => undefined);
  };
  return {
    send,
    /** For SpeakHooks.onProgress: reports seconds of audio generated so far. */
    onAudio: ({ durationMs }: { durationMs: number }) => {
      const now = Date.now();
      if (now - lastAudioAt < PROGRESS_INTERVAL_MS) return;
      lastAudioAt = now;
      send(durationMs, `Generated ${(durationMs / 1000).toFixed(1)} s of audio`);
    },
  };
}

/**
 * Runs `work` while the call can be cancelled — by `notifications/cancelled` on this request or another
 * (stateless HTTP), or the client hanging up — which stops the speech and spends nothing further.
 */
export async function whileCancellable<T>(
  deps: ToolDeps,
  caller: CallerContext,
  extra: Extra,
  started: StartedSpeech,
  work: () => Promise<T>,
): Promise<T> {
  const cancel = () => started.handle.cancel();
  extra.signal.addEventListener('abort', cancel, { once: true });
  const unregister = deps.inFlight.register(caller.user, extra.requestId, cancel);
  try {
    return await work();
  } finally {
    extra.signal.removeEventListener('abort', cancel);
    unregister();
  }
}
