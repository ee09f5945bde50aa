import type { StartedSpeech } from '../services/speech.js';
import type { ToolDeps } from './context.js';
import type { ToolCall } from './tool-set.js';

/** How often progress notifications may go out while audio streams. */
const PROGRESS_INTERVAL_MS = 250;

/**
 * MCP progress for a call, when the client asked for it (`_meta.progressToken`): strictly increasing
 * values, at most every 250 ms for audio, never failing the call if the client has gone.
 */
export function progressReporter({ ctx }: ToolCall) {
  const token = ctx.mcpReq._meta?.progressToken;
  let last = 0;
  let lastAudioAt = 0;
  const send = (progress: number, message: string) => {
    if (token === undefined || progress <= last) return;
    last = progress;
    void ctx.mcpReq
      .notify({
        method: 'notifications/progress',
        params: { progressToken: token, progress, message },
      })
      .catch(() => undefined);
  };
  return {
    send,
    /** For SpeakHooks.onProgress: reports seconds of audio generated so far. */
    onAudio: ({ durationMs }: { durationMs: number }) => {
      // A chunk with no new audio (an Ogg header page) must not use up the interval: the first real audio would
      // then wait for it, and a short speech would report no progress at all.
      if (durationMs <= last) return;
      const now = Date.now();
      if (now - lastAudioAt < PROGRESS_INTERVAL_MS) return;
      lastAudioAt = now;
      send(durationMs, `Generated ${(durationMs / 1000).toFixed(1)} s of audio`);
    },
  };
}

/**
 * Runs `work` while the call can be cancelled — by `notifications/cancelled` on this request or another
 * (stateless HTTP), or the client hanging up (how 2026-07-28 clients cancel) — which stops the speech and spends nothing further.
 */
export async function whileCancellable<T>(
  deps: ToolDeps,
  call: ToolCall,
  started: StartedSpeech,
  work: () => Promise<T>,
): Promise<T> {
  const cancel = () => started.handle.cancel();
  const { signal, id } = call.ctx.mcpReq;
  signal.addEventListener('abort', cancel, { once: true });
  const unregister = deps.inFlight.register(call.user, id, cancel);
  try {
    return await work();
  } finally {
    signal.removeEventListener('abort', cancel);
    unregister();
  }
}
