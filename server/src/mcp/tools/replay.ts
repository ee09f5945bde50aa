import type { ToolSet } from '../tool-set.js';
import { z } from 'zod';
import type { ToolDeps } from '../context.js';
import { whileCancellable } from '../call-control.js';
import { guarded, ok } from '../results.js';
import { inChatPlayerMeta, PLAYER_APP_TOOL_META, withInChatNote } from '../player-app.js';
import { listenersPhrase, nobodyHeard, playersListeningShape, playersReachedShape } from '../delivery.js';

export const REPLAY_TOOL = 'replay';

export function registerReplayTool(tools: ToolSet, deps: ToolDeps): void {
  tools.define(
    REPLAY_TOOL,
    {
      title: 'Replay earlier speech',
      description:
        "Play a history item's stored audio again on the user's players, e.g. when they ask \"what did you " +
        'say?". Free: nothing is generated.',
      inputSchema: { id: z.string().min(1).max(64).describe('The id from speak or list_history.') },
      outputSchema: {
        id: z.string(),
        durationMs: z.number(),
        playersReached: z.number().describe(playersReachedShape),
        playersListening: z.number().describe(playersListeningShape),
        playerUrl: z.string(),
      },
      annotations: {
        readOnlyHint: false,
        destructiveHint: false,
        idempotentHint: false,
        openWorldHint: false,
      },
      _meta: PLAYER_APP_TOOL_META,
    },
    (args, call) =>
      guarded(async () => {
        const started = await deps.speech.replay(call.user, args.id, { source: 'mcp', inChat: true });
        return whileCancellable(deps, call, started, async () => {
          const result = await deps.speech.finish(started);
          const structured = {
            id: result.id,
            durationMs: result.durationMs,
            playersReached: result.playersReached,
            playersListening: result.playersListening,
            playerUrl: deps.speech.playerPageUrl(),
          };
          const replayed = `Replayed ${args.id} (${(result.durationMs / 1000).toFixed(1)} s), free`;
          const nobody = nobodyHeard(result, structured.playerUrl);
          const text = nobody ? `${nobody} ${replayed}.` : `${replayed}, to ${listenersPhrase(result)}.`;
          const _meta = inChatPlayerMeta(deps, call.user, started.handle.id);
          const said = withInChatNote(text, result.playersListening, _meta);
          return { ...ok(said, structured), ...(_meta && { _meta }) };
        });
      }),
  );
}
