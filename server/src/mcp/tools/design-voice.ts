import { CREATION_ANNOTATIONS } from '../generated-audio.js';
import type { ToolSet } from '../tool-set.js';
import { z } from 'zod';
import { EarshotError } from '../../errors.js';
import type { ToolDeps } from '../context.js';
import { guarded, ok } from '../results.js';
import { nobodyHeard } from '../delivery.js';

export const DESIGN_VOICE_TOOL = 'design_voice';
export const SAVE_DESIGNED_VOICE_TOOL = 'save_designed_voice';

export function registerDesignVoiceTools(tools: ToolSet, deps: ToolDeps): void {
  tools.define(
    DESIGN_VOICE_TOOL,
    {
      requires: 'elevenlabs',
      title: 'Design a voice',
      description:
        'Create new voice previews from a description ("a calm, low British narrator in his sixties") with ' +
        "ElevenLabs. Each preview is played on the user's players one after another so they can choose, and " +
        'kept in history. Then call save_designed_voice with the chosen generated_voice_id. Costs ElevenLabs ' +
        'credits; needs an ElevenLabs key.',
      inputSchema: {
        description: z
          .string()
          .min(20)
          .max(1000)
          .describe('What the voice should sound like (20–1000 characters).'),
        text: z
          .string()
          .min(100)
          .max(1000)
          .optional()
          .describe('Sample text to speak (100–1000); default: written for you.'),
        play: z.boolean().optional().describe('Play the previews (default true).'),
      },
      outputSchema: {
        text: z.string(),
        credits: z.number(),
        previews: z.array(
          z.object({
            generated_voice_id: z.string(),
            history_id: z.string(),
            duration_ms: z.number(),
            players_reached: z.number(),
            players_listening: z.number(),
          }),
        ),
      },
      annotations: CREATION_ANNOTATIONS,
    },
    (args, call) =>
      guarded(async () => {
        const design = await deps.speech.designVoice(
          call.user,
          { description: args.description, text: args.text },
          { source: 'mcp', silent: args.play === false },
          call.ctx.mcpReq.signal,
        );
        const cancel = () => design.previews.forEach((preview) => preview.started.handle.cancel());
        call.ctx.mcpReq.signal.addEventListener('abort', cancel, { once: true });
        const previews = [];
        try {
          for (const preview of design.previews) {
            const result = await deps.speech.finish(preview.started);
            previews.push({
              generated_voice_id: preview.generatedVoiceId,
              history_id: result.id,
              duration_ms: result.durationMs,
              players_reached: result.playersReached,
              players_listening: result.playersListening,
            });
          }
        } finally {
          call.ctx.mcpReq.signal.removeEventListener('abort', cancel);
        }
        const lines = previews.map(
          (p, i) =>
            `- Preview ${i + 1}: generated_voice_id ${p.generated_voice_id} (${(p.duration_ms / 1000).toFixed(1)} s)`,
        );
        const first = previews[0];
        const nobody =
          args.play === false || !first
            ? null
            : nobodyHeard(
                { playersReached: first.players_reached, playersListening: first.players_listening },
                deps.speech.playerPageUrl(),
              );
        const heard = args.play === false ? 'Not played.' : nobody ? '' : 'Played in order.';
        return ok(
          [
            `${nobody ? `${nobody} ` : ''}${previews.length} previews for "${args.description}" (${design.credits} credits).${heard ? ` ${heard}` : ''} Save one with save_designed_voice:`,
            ...lines,
          ].join('\n'),
          { text: design.text, credits: design.credits, previews },
        );
      }),
  );

  tools.define(
    SAVE_DESIGNED_VOICE_TOOL,
    {
      requires: 'elevenlabs',
      title: 'Save a designed voice',
      description:
        'Keep a voice from design_voice in the ElevenLabs account under a name, so speak can use it. Free; needs ' +
        'an ElevenLabs key.',
      inputSchema: {
        generated_voice_id: z.string().min(1).max(100).describe('From design_voice.'),
        name: z.string().min(1).max(100),
        description: z.string().min(20).max(1000).describe('The description it was designed from.'),
        make_default: z.boolean().optional().describe('Also make it the default voice.'),
      },
      outputSchema: { voice_id: z.string(), name: z.string(), is_default: z.boolean() },
      annotations: CREATION_ANNOTATIONS,
    },
    (args, call) =>
      guarded(async () => {
        const studio = deps.engine.studio;
        if (!studio) {
          throw new EarshotError(
            'invalid_input',
            'Saving voices needs ElevenLabs; set ELEVENLABS_API_KEY and restart.',
          );
        }
        const voice = await studio.saveDesignedVoice({
          name: args.name,
          description: args.description,
          generatedVoiceId: args.generated_voice_id,
        });
        deps.catalog.invalidateVoices();
        if (args.make_default) await deps.settings.update(call.user, { defaultVoice: voice.id });
        return ok(
          `Saved "${voice.name}" as voice ${voice.id}.${args.make_default ? ' It is now the default voice.' : ''}`,
          { voice_id: voice.id, name: voice.name, is_default: args.make_default === true },
        );
      }),
  );
}
