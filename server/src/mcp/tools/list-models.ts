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
            isDefault: z
              .literal(true)
              .optional()
              .describe(
                "The engine's default: used when neither the call nor the user's settings name a model.",
              ),
          }),
        ),
        settingsModel: z
          .string()
          .nullable()
          .describe(
            "The model the user's settings name as their default (it wins over the engine's), or null.",
          ),
      },
      annotations: { readOnlyHint: true, openWorldHint: deps.engineName === 'elevenlabs' },
      answersAtOnce: true,
    },
    (_args, call) =>
      guarded(async () => {
        const [listed, settings] = await Promise.all([
          deps.catalog.listModels(),
          deps.settings.get(call.user),
        ]);
        const models = listed.map((model) => ({ ...model }));
        const settingsModel = settings.defaultModel;
        // What a call that names no model gets: the user's saved default, else the engine's.
        const usedByDefault = settingsModel ?? models.find((m) => m.isDefault)?.id;
        const lines = models.map(
          (m) =>
            `- ${m.name} (${m.id}): ${m.creditsPerCharacter} credit/char` +
            (m.maxCharacters ? `, up to ${m.maxCharacters} chars` : '') +
            (m.id === usedByDefault ? ' — the default' : ''),
        );
        const note = settingsModel === null ? [] : [`The user's settings make ${settingsModel} the default.`];
        return ok(
          [`${models.length} model${models.length === 1 ? '' : 's'}:`, ...lines, ...note].join('\n'),
          { models, settingsModel },
        );
      }),
  );
}
