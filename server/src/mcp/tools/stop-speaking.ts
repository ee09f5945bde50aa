import type { ToolSet } from '../tool-set.js';
import { z } from 'zod';
import type { ToolDeps } from '../context.js';
import { guarded, ok } from '../results.js';

export const STOP_SPEAKING_TOOL = 'stop_speaking';

export function registerStopSpeakingTool(tools: ToolSet, deps: ToolDeps): void {
  tools.define(
    STOP_SPEAKING_TOOL,
    {
      title: 'Stop speaking',
      description:
        'Stop the speech playing now and drop any queued speech for this user. Use it when the user says ' +
        '"stop", or before saying something more urgent. Free; spends nothing further.',
      inputSchema: {},
      outputSchema: { stopped: z.number().describe('Speeches stopped or removed from the queue.') },
      annotations: {
        readOnlyHint: false,
        destructiveHint: false,
        idempotentHint: true,
        openWorldHint: false,
      },
    },
    (_args, call) =>
      guarded(async () => {
        const stopped = deps.hub.stop(call.user);
        const text =
          stopped === 0 ? 'Nothing was playing.' : `Stopped ${stopped} speech${stopped === 1 ? '' : 'es'}.`;
        return ok(text, { stopped });
      }),
  );
}
