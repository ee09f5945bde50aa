import type { ToolSet } from '../tool-set.js';
import { z } from 'zod';
import type { ToolDeps } from '../context.js';
import { guarded, ok } from '../results.js';

export const LIST_MODELS_TOOL = 'list_models';

export function registerListModelsTool(tools: ToolSet, deps: ToolDeps): void {
  tools.define(
    LIST_MODELS_TOOL,
    {
      title: 'List speech models',
      description:
        deps.engineName === 'elevenlabs'
          ? 'List the text-to-speech models with their character limits, credit cost per character and ' +
            'languages. Use it to choose between speed (Flash, Turbo: half the credits) and quality ' +
            '(Multilingual). Free.'
          : 'List the text-to-speech models: the offline voice has one, which costs nothing. Free.',
      inputSchema: {},
      outputSchema: {
        models: z.array(
          z.object({
            id: z.string(),
            name: z.string(),
            description: z.string().optional(),
            maxCharacters: z.number().optional(),
            creditsPerCharacter: z.number(),
            languages: z
              .array(z.string())
              .optional()
              .describe('ISO 639-1 codes the model speaks, where the engine states them.'),
          }),
        ),
      },
      annotations: { readOnlyHint: true, openWorldHint: deps.engineName === 'elevenlabs' },
      answersAtOnce: true,
    },
    () =>
      guarded(async () => {
        const models = (await deps.catalog.listModels()).map((model) => ({ ...model }));
        const lines = models.map(
          (m) =>
            `- ${m.name} (${m.id}): ${m.creditsPerCharacter} credit/char` +
            (m.maxCharacters ? `, up to ${m.maxCharacters} chars` : ''),
        );
        return ok([`${models.length} model${models.length === 1 ? '' : 's'}:`, ...lines].join('\n'), {
          models,
        });
      }),
  );
}
