import type { ToolSet } from '../tool-set.js';
import { z } from 'zod';
import { EarshotError } from '../../errors.js';
import type { ToolDeps } from '../context.js';
import { guarded, ok } from '../results.js';

export const SEARCH_VOICE_LIBRARY_TOOL = 'search_voice_library';

export function registerSearchVoiceLibraryTool(tools: ToolSet, deps: ToolDeps): void {
  tools.define(
    SEARCH_VOICE_LIBRARY_TOOL,
    {
      requires: 'elevenlabs',
      title: 'Search the shared voice library',
      description:
        'Search the ElevenLabs voice library (voices the community shares) by words, gender, age, accent, ' +
        'language and use case, a page at a time. Library voice ids work directly in speak. Free; needs an ' +
        'ElevenLabs key.',
      inputSchema: {
        search: z.string().max(100).optional(),
        gender: z.string().max(30).optional(),
        age: z.string().max(30).optional(),
        accent: z.string().max(30).optional(),
        language: z.string().max(10).optional().describe('ISO code, e.g. "en".'),
        use_case: z.string().max(40).optional().describe('e.g. narrative_story, conversational, news.'),
        category: z.string().max(30).optional(),
        page_size: z.number().int().min(1).max(100).optional().describe('Default 20.'),
        page: z.number().int().min(0).max(1000).optional().describe('Page number from 0.'),
      },
      outputSchema: {
        voices: z.array(
          z.object({
            id: z.string(),
            name: z.string(),
            gender: z.string(),
            age: z.string(),
            accent: z.string(),
            language: z.string().optional(),
            useCase: z.string(),
            category: z.string(),
            description: z.string().optional(),
            previewUrl: z.string().optional(),
            clonedByCount: z.number(),
          }),
        ),
        has_more: z.boolean(),
        page: z.number(),
      },
      annotations: { readOnlyHint: true, openWorldHint: true },
    },
    (args) =>
      guarded(async () => {
        const studio = deps.engine.studio;
        if (!studio) {
          throw new EarshotError(
            'invalid_input',
            'The voice library needs ElevenLabs; set ELEVENLABS_API_KEY and restart.',
          );
        }
        const page = args.page ?? 0;
        const result = await studio.searchLibrary({
          search: args.search,
          gender: args.gender,
          age: args.age,
          accent: args.accent,
          language: args.language,
          useCase: args.use_case,
          category: args.category,
          pageSize: args.page_size ?? 20,
          page,
        });
        const lines = result.voices.map(
          (v) =>
            `- ${v.name} (${v.id}) — ${[v.gender, v.age, v.accent, v.language, v.useCase].filter(Boolean).join(', ')}`,
        );
        const header =
          result.voices.length === 0
            ? 'No library voice matches.'
            : `Page ${page}: ${result.voices.length} voice${result.voices.length === 1 ? '' : 's'}` +
              (result.hasMore ? ` (more with page ${page + 1})` : '') +
              ':';
        return ok([header, ...lines].join('\n'), { voices: result.voices, has_more: result.hasMore, page });
      }),
  );
}
