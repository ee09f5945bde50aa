import type { ToolSet } from '../tool-set.js';
import { z } from 'zod';
import type { ToolDeps } from '../context.js';
import { guarded, ok } from '../results.js';
import { voiceLine } from './search-voices.js';

export const LIST_VOICES_TOOL = 'list_voices';
const MAX_LISTED = 50;

export function registerListVoicesTool(tools: ToolSet, deps: ToolDeps): void {
  tools.define(
    LIST_VOICES_TOOL,
    {
      title: 'List voices',
      description:
        'List the voices speak can use, optionally filtered by a search over name, accent, gender and ' +
        `description. Use it to pick a voice or check a name. Free. Returns at most ${MAX_LISTED} voices.`,
      inputSchema: {
        search: z.string().max(100).optional().describe('Words to match, e.g. "british female".'),
      },
      outputSchema: {
        voices: z.array(
          z.object({
            id: z.string(),
            name: z.string(),
            category: z.string().optional(),
            description: z.string().optional(),
            labels: z.record(z.string(), z.string()),
          }),
        ),
        total: z.number(),
      },
      annotations: { readOnlyHint: true, openWorldHint: deps.engineName === 'elevenlabs' },
      answersAtOnce: true,
    },
    (args) =>
      guarded(async () => {
        const words = args.search?.trim().split(/\s+/).filter(Boolean) ?? [];
        let voices = await deps.catalog.listVoices();
        for (const word of words) {
          const matching = new Set(await deps.catalog.searchVoices(word));
          voices = voices.filter((voice) => matching.has(voice));
        }
        const listed = voices.slice(0, MAX_LISTED).map((voice) => ({
          id: voice.id,
          name: voice.name,
          category: voice.category,
          description: voice.description,
          labels: { ...voice.labels },
        }));
        const lines = listed.map(voiceLine);
        const header =
          voices.length === 0
            ? `No voice matches "${args.search ?? ''}".`
            : `${voices.length} voice${voices.length === 1 ? '' : 's'}${voices.length > MAX_LISTED ? ` (first ${MAX_LISTED})` : ''}:`;
        return ok([header, ...lines].join('\n'), { voices: listed, total: voices.length });
      }),
  );
}
