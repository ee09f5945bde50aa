import type { SpeakResult } from '@earshot/protocol';
import { z } from 'zod';
import { EarshotError } from '../../errors.js';
import type { Studio } from '../../engines/studio.js';
import type { ToolDeps } from '../context.js';
import { listenersPhrase, nobodyHeard, playersListeningShape, playersReachedShape } from '../delivery.js';

/** ElevenLabs' Voice Changer and Voice Isolator rate: credits per minute of source audio. */
export const CREDITS_PER_AUDIO_MINUTE = 1000;

/** The credits a clip of `durationMs` is booked at before anything is spent (a started minute counts whole). */
export function estimateCredits(durationMs: number, creditsPerMinute = CREDITS_PER_AUDIO_MINUTE): number {
  return Math.max(1, Math.ceil((Math.max(0, durationMs) / 60_000) * creditsPerMinute));
}

/** The ElevenLabs features, or a clear refusal when the server runs the offline voice. */
export function needStudio(deps: ToolDeps, what: string): Studio {
  const studio = deps.engine.studio;
  if (!studio) {
    throw new EarshotError(
      'invalid_input',
      `${what} needs ElevenLabs: the offline voice cannot do it. Set ELEVENLABS_API_KEY and restart.`,
    );
  }
  return studio;
}

/** The result of a tool that generates and plays audio, as speak reports it. */
export const playedAudioShape = {
  id: z.string().describe('History id of the new audio.'),
  status: z.enum(['completed', 'stopped', 'failed']),
  credits: z.number().describe('ElevenLabs credits spent.'),
  durationMs: z.number(),
  playersReached: z.number().describe(playersReachedShape),
  playersListening: z.number().describe(playersListeningShape),
  played: z.boolean().describe('True when a listening player reported it finished playing (wait: "played").'),
  audioUrl: z.string().nullable().describe('Link to the audio (needs the same bearer key), when kept.'),
  resourceUri: z.string(),
  playerUrl: z.string(),
};

/** The result of a tool that generates a clip and may play it (text_to_sound_effects, isolate_audio). */
export const generatedClipShape = {
  id: z.string(),
  credits: z.number(),
  durationMs: z.number(),
  playersReached: z.number().describe(playersReachedShape),
  playersListening: z.number().describe(playersListeningShape),
  audioUrl: z.string().nullable(),
  resourceUri: z.string(),
  path: z.string().optional(),
};

export const waitArg = z
  .enum(['generated', 'played'])
  .optional()
  .describe(
    '"generated" (default): return when the audio is generated. "played": wait until a listening player finished playing it (returns at once when no player has audio on).',
  );

export function playedAudio(deps: ToolDeps, result: SpeakResult) {
  return {
    id: result.id,
    status: result.status,
    credits: result.credits,
    durationMs: result.durationMs,
    playersReached: result.playersReached,
    playersListening: result.playersListening,
    played: result.played,
    audioUrl: result.audioUrl,
    resourceUri: `earshot://history/${result.id}`,
    playerUrl: deps.speech.playerPageUrl(),
  };
}

/** "Nobody heard it: …" first when nobody listened, else who heard it; then what was made. */
export function playedSummary(deps: ToolDeps, result: SpeakResult, made: string): string {
  const seconds = `${(result.durationMs / 1000).toFixed(1)} s`;
  const cost = `${result.credits} credit${result.credits === 1 ? '' : 's'}`;
  const audio = result.audioUrl ? ` Audio: ${result.audioUrl}` : '';
  if (result.status === 'stopped') return `Stopped before the end (${seconds} made, ${cost}).${audio}`;
  const nobody = nobodyHeard(result, deps.speech.playerPageUrl());
  if (nobody) return `${nobody} ${made} (${seconds}, ${cost}).${audio}`;
  const heard = result.played ? ' and it finished playing' : '';
  return `${made} and played it to ${listenersPhrase(result)} (${seconds}, ${cost})${heard}.${audio}`;
}
