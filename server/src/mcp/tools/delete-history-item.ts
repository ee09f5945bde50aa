import type { ToolSet } from '../tool-set.js';
import { z } from 'zod';
import { EarshotError } from '../../errors.js';
import type { ToolDeps } from '../context.js';
import { guarded, ok } from '../results.js';

export const DELETE_HISTORY_ITEM_TOOL = 'delete_history_item';

export function registerDeleteHistoryItemTool(tools: ToolSet, deps: ToolDeps): void {
  tools.define(
    DELETE_HISTORY_ITEM_TOOL,
    {
      title: 'Delete a history item',
      description:
        "Delete one spoken item and its stored audio from this user's history, for good. Use it when the user " +
        'asks to remove something that was said. Free.',
      inputSchema: { id: z.string().min(1).max(64).describe('The id from speak or list_history.') },
      outputSchema: { deleted: z.string() },
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
    },
    (args, call) =>
      guarded(async () => {
        if (!(await deps.store.deleteHistory(call.user, args.id))) {
          throw new EarshotError('not_found', `No history item "${args.id}"; call list_history for ids.`);
        }
        return ok(`Deleted ${args.id} and its audio.`, { deleted: args.id });
      }),
  );
}
