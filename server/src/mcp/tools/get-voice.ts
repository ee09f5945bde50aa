import type { ToolSet } from '../tool-set.js';
import { z } from 'zod';
import type { ToolDeps } from '../context.js';
import { guarded, ok } from '../results.js';
import { voiceForTools, voiceShape } from './search-voices.js';

export const GET_VOICE_TOOL = 'get_voice';

export function registerGetVoiceTool(tools: ToolSet, deps: ToolDeps): void {
  tools.define(
    GET_VOICE_TOOL,
    {
      title: 'Get a voice',
      description: 'Details of one voice by id or name: labels, description and preview link. Free.',
      inputSchema: { voice: z.string().min(1).max(100).describe('Voice id or name (case-insensitive).') },
      outputSchema: voiceShape.shape,
      annotations: { readOnlyHint: true, openWorldHint: deps.engineName === 'elevenlabs' },
      answersAtOnce: true,
    },
    (args) =>
      guarded(async () => {
        const voice = await deps.catalog.resolveVoice(args.voice);
        const labels = Object.entries(voice.labels)
          .map(([key, value]) => `${key}: ${value}`)
          .join(', ');
        const text = [
          `${voice.name} (${voice.id})${voice.category ? `, ${voice.category}` : ''}.`,
          voice.description ?? '',
          labels ? `Labels — ${labels}.` : '',
          voice.previewUrl ? `Preview: ${voice.previewUrl}` : '',
        ]
          .filter(Boolean)
          .join(' ');
        return ok(text, voiceForTools(voice));
      }),
  );
}
