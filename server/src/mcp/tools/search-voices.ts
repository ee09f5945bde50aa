import type { Voice } from '@earshot/protocol';
import type { ToolSet } from '../tool-set.js';
import { z } from 'zod';
import { EarshotError } from '../../errors.js';
import type { ToolDeps } from '../context.js';
import { guarded, ok } from '../results.js';

export const SEARCH_VOICES_TOOL = 'search_voices';

export const voiceShape = z.object({
  id: z.string(),
  name: z.string(),
  category: z.string().optional(),
  description: z.string().optional(),
  labels: z.record(z.string(), z.string()),
  previewUrl: z.string().optional(),
});

export function voiceForTools(voice: Voice) {
  return { ...voice, labels: { ...voice.labels } };
}

export function voiceLine(voice: Voice): string {
  const labels = Object.values(voice.labels).filter(Boolean).join(', ');
  return `- ${voice.name} (${voice.id})${labels ? ` — ${labels}` : ''}`;
}

const LABEL_FILTERS = ['gender', 'accent', 'age', 'language', 'use_case'] as const;

export function registerSearchVoicesTool(tools: ToolSet, deps: ToolDeps): void {
  tools.define(
    SEARCH_VOICES_TOOL,
    {
      title: 'Search your voices',
      description:
        'Search the voices available to speak (your ElevenLabs voices, or the offline ones) by words and by ' +
        'labels (gender, accent, age, language, use case, category), a page at a time. Use it to pick a voice ' +
        'that fits; for voices other people share use search_voice_library. Free.',
      inputSchema: {
        search: z.string().max(100).optional().describe('Words in the name, description or labels.'),
        gender: z.string().max(30).optional(),
        accent: z.string().max(30).optional(),
        age: z.string().max(30).optional(),
        language: z.string().max(30).optional(),
        use_case: z.string().max(40).optional(),
        category: z.string().max(30).optional().describe('e.g. premade, cloned, generated, professional.'),
        page_size: z.number().int().min(1).max(100).optional().describe('Default 20.'),
        page_token: z.string().max(20).optional().describe('next_page_token from the previous page.'),
      },
      outputSchema: {
        voices: z.array(voiceShape),
        total: z.number(),
        next_page_token: z.string().nullable(),
      },
      annotations: { readOnlyHint: true, openWorldHint: deps.engineName === 'elevenlabs' },
      answersAtOnce: true,
    },
    (args) =>
      guarded(async () => {
        const offset = args.page_token === undefined ? 0 : Number(args.page_token);
        if (!Number.isInteger(offset) || offset < 0) {
          throw new EarshotError(
            'invalid_input',
            'page_token is not one this tool returned; start without it.',
          );
        }
        let voices = await deps.catalog.listVoices();
        for (const word of args.search?.trim().split(/\s+/).filter(Boolean) ?? []) {
          const matching = new Set(await deps.catalog.searchVoices(word));
          voices = voices.filter((voice) => matching.has(voice));
        }
        for (const label of LABEL_FILTERS) {
          const wanted = args[label]?.toLowerCase();
          // Whole-value match: "male" must not match "female".
          if (wanted) voices = voices.filter((voice) => (voice.labels[label] ?? '').toLowerCase() === wanted);
        }
        if (args.category)
          voices = voices.filter((voice) => voice.category?.toLowerCase() === args.category!.toLowerCase());
        const size = args.page_size ?? 20;
        const page = voices.slice(offset, offset + size);
        const next = offset + size < voices.length ? String(offset + size) : null;
        const header =
          voices.length === 0
            ? 'No voice matches. Try fewer filters, or search_voice_library for shared voices.'
            : `${voices.length} voice${voices.length === 1 ? '' : 's'} match; showing ${offset + 1}–${offset + page.length}` +
              (next ? ` (more with page_token "${next}")` : '') +
              ':';
        return ok([header, ...page.map(voiceLine)].join('\n'), {
          voices: page.map(voiceForTools),
          total: voices.length,
          next_page_token: next,
        });
      }),
  );
}
