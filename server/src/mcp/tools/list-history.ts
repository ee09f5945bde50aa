import type { ToolSet } from '../tool-set.js';
import { z } from 'zod';
import type { ToolDeps } from '../context.js';
import { guarded, ok } from '../results.js';
import { historyForTools, historyItemShape, historyLine } from './history-shape.js';

export const LIST_HISTORY_TOOL = 'list_history';

export function registerListHistoryTool(tools: ToolSet, deps: ToolDeps): void {
  tools.define(
    LIST_HISTORY_TOOL,
    {
      title: 'List speech history',
      description:
        'List what was spoken for this user, newest first, optionally searching the text or voice. Use it to ' +
        'find an id for replay or delete_history_item. For more, call again with cursor = nextCursor. Free.',
      inputSchema: {
        search: z.string().max(200).optional().describe('Words in the text or the voice name.'),
        limit: z.number().int().min(1).max(50).optional().describe('How many (default 10, at most 50).'),
        cursor: z
          .string()
          .max(2048)
          .optional()
          .describe('nextCursor from the previous call, for the next (older) page.'),
        before: z.string().max(40).optional().describe('Only items created before this ISO time.'),
      },
      outputSchema: {
        items: z.array(historyItemShape),
        nextCursor: z.string().nullable().describe('Pass as cursor for older items; null: no more.'),
      },
      annotations: { readOnlyHint: true, openWorldHint: false },
      answersAtOnce: true,
    },
    (args, call) =>
      guarded(async () => {
        const { items, nextCursor } = await deps.store.listHistory(call.user, {
          limit: args.limit ?? 10,
          search: args.search,
          cursor: args.cursor,
          before: args.before,
        });
        const more = nextCursor ? `\nMore: call again with cursor "${nextCursor}".` : '';
        const text =
          items.length === 0
            ? `No speech in history${args.search ? ` matching "${args.search}"` : ''}${args.cursor ? ' on this page' : ''}.${more}`
            : [
                `${items.length} item${items.length === 1 ? '' : 's'}, newest first:`,
                ...items.map(historyLine),
              ].join('\n') + more;
        return ok(text, {
          items: items.map((item) => historyForTools(item, (id) => deps.speech.audioUrl(id))),
          nextCursor,
        });
      }),
  );
}
