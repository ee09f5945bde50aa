import type { ToolSet } from '../tool-set.js';
import { z } from 'zod';
import type { ToolDeps } from '../context.js';
import type { SpeakInput, StartedSpeech } from '../../services/speech.js';
import { progressReporter, whileCancellable } from '../call-control.js';
import {
  engineWording,
  NAME_MAX_CHARS,
  CREATION_ANNOTATIONS,
  speakInputOf,
  textArg,
  voiceChoiceArgs,
} from '../generated-audio.js';
import { guarded, ok } from '../results.js';
import { isJsonObject } from '../json-shape.js';
import { inChatPlayerMeta, PLAYER_APP_TOOL_META, withInChatNote } from '../player-app.js';
import { listenersPhrase, nobodyHeard, playersListeningShape, playersReachedShape } from '../delivery.js';

export const SPEAK_TOOL = 'speak';

const outputShape = {
  id: z.string().describe('Speech id; also the history id.'),
  status: z.enum(['completed', 'stopped', 'failed']),
  characters: z.number(),
  credits: z.number().describe('ElevenLabs credits spent (0 offline).'),
  durationMs: z.number().describe('Length of the generated audio.'),
  playersReached: z.number().describe(playersReachedShape),
  playersListening: z.number().describe(playersListeningShape),
  played: z.boolean().describe('True when a listening player reported it finished playing (wait: "played").'),
  audioUrl: z.string().nullable().describe('Link to the audio (needs the same bearer key), when kept.'),
  voice: z.object({ id: z.string(), name: z.string() }),
  cached: z.boolean().describe('True when stored audio of an identical earlier request was replayed (free).'),
  playerUrl: z.string().describe('The page where the user hears speech.'),
  notKept: z
    .object({
      history: z.boolean(),
      audio: z.boolean(),
      reason: z.string(),
      code: z.enum(['quota_exceeded', 'store_unavailable']),
    })
    .optional()
    .describe('Set when the speech played but Earshot could not keep its history record or its audio.'),
};

/** speak's arguments. */
export function speakArgsShape(deps: Pick<ToolDeps, 'maxTextLength' | 'engine'>) {
  return {
    text: textArg(deps.maxTextLength).describe('What to say, as plain sentences.'),
    ...voiceChoiceArgs(deps.engine),
    wait: z
      .enum(['generated', 'played'])
      .optional()
      .describe(
        '"generated" (default): return when the audio is generated. "played": wait until a listening player finished playing it (returns at once when no player has audio on).',
      ),
  };
}

type SpeakArgs = z.output<z.ZodObject<ReturnType<typeof speakArgsShape>>>;

/** The keys of a plain speak call; one with settings or language is left to the schema. */
const PLAIN_SPEAK_KEYS = new Set(['text', 'voice', 'model', 'wait', 'fresh']);

/**
 * The arguments of a plain speak call — text, and any of voice, model, wait, fresh — checked by hand (see
 * `ToolConfig.quickArgs`): undefined for anything else (settings, language, a value the schema would refuse or
 * change), which the schema then parses. speak-args.test.ts holds it against the schema.
 */
export function plainSpeakArgs(args: unknown, maxTextLength: number): SpeakArgs | undefined {
  if (!isJsonObject(args)) return undefined;
  for (const key in args) if (!PLAIN_SPEAK_KEYS.has(key) || args[key] === undefined) return undefined;
  const { text, voice, model, wait, fresh } = args;
  if (typeof text !== 'string' || text.length < 1 || text.length > maxTextLength) return undefined;
  if (voice !== undefined && !(typeof voice === 'string' && voice.length <= NAME_MAX_CHARS)) return undefined;
  if (model !== undefined && !(typeof model === 'string' && model.length <= NAME_MAX_CHARS)) return undefined;
  if (wait !== undefined && wait !== 'generated' && wait !== 'played') return undefined;
  if (fresh !== undefined && typeof fresh !== 'boolean') return undefined;
  return {
    text,
    ...(voice !== undefined && { voice }),
    ...(model !== undefined && { model }),
    ...(wait !== undefined && { wait }),
    ...(fresh !== undefined && { fresh }),
  };
}

export function registerSpeakTool(tools: ToolSet, deps: ToolDeps): void {
  tools.define(
    SPEAK_TOOL,
    {
      title: 'Speak to the user',
      description:
        'Say something out loud to the user: the text is turned into speech and streamed live to the Earshot ' +
        'player open in their browser. Use it when the user asked to be told by voice — a task finished, a ' +
        'question needs their attention, a short summary. Keep it short and conversational (one to three ' +
        `sentences); do not read code or long logs aloud. ${engineWording(deps.engine).cost()} ` +
        'Returns when the audio has been ' +
        'generated (or, with wait: "played", when the player finished playing it); speeches queue in order. ' +
        'The result says how many players were open (playersReached) and how many could be heard ' +
        '(playersListening); when nobody listened, its text says so first and what the user must do.',
      inputSchema: speakArgsShape(deps),
      outputSchema: outputShape,
      annotations: CREATION_ANNOTATIONS,
      _meta: PLAYER_APP_TOOL_META,
      quickArgs: (args) => plainSpeakArgs(args, deps.maxTextLength),
      // The speech starts as soon as the request is read; the handler below picks it up.
      begin: (args, user) => {
        const progress = new ProgressRelay();
        const started = startSpeech(deps, user, args, progress.onAudio);
        // An error is reported by the handler; a call never dispatched has nobody to report it to.
        started.catch(() => undefined);
        return {
          work: { started, progress },
          abandon: () =>
            void started.then(
              (speech) => speech.handle.cancel(),
              () => undefined,
            ),
        };
      },
    },
    (args, call, begun) =>
      guarded(async () => {
        const progress = progressReporter(call);
        let started;
        if (begun) {
          begun.progress.attach(progress.onAudio);
          started = await begun.started;
        } else {
          started = await startSpeech(deps, call.user, args, progress.onAudio);
        }
        const log = (level: 'debug' | 'info' | 'warning', data: string) =>
          deps.logLevels.log(call, level, data);
        if (started.replayOf)
          log('info', `Identical audio is stored (${started.replayOf.id}): replaying it, 0 credits.`);
        log(
          'debug',
          `Speech ${started.handle.id} queued for voice ${started.voice.name}, model ${started.model}.`,
        );
        if (started.handle.queuedBehind > 0) {
          progress.send(0.001, `Waiting behind ${started.handle.queuedBehind} earlier speech(es)`);
          log('info', `Waiting behind ${started.handle.queuedBehind} earlier speech(es) of this user.`);
        }
        return whileCancellable(deps, call, started, async () => {
          const result = {
            ...(await deps.speech.finish(started, args.wait)),
            playerUrl: deps.speech.playerPageUrl(),
          };
          const _meta = inChatPlayerMeta(deps, call.user, started.handle.id);
          const stopped = result.status === 'stopped';
          const text = stopped
            ? summarise(result)
            : withInChatNote(summarise(result), result.playersListening, _meta);
          return { ...ok(text, result), ...(_meta && { _meta }) };
        });
      }),
  );
}

function startSpeech(
  deps: ToolDeps,
  user: string,
  args: SpeakInput,
  onProgress: (progress: AudioProgress) => void,
): Promise<StartedSpeech> {
  return deps.speech.start(user, speakInputOf(args), { source: 'mcp', onProgress, inChat: true });
}

/**
 * Progress of a speech begun before its call was dispatched: held (the latest only) until the handler attaches
 * the call's reporter, then passed straight through.
 */
class ProgressRelay {
  private target: ((progress: AudioProgress) => void) | undefined;
  private held: AudioProgress | undefined;

  readonly onAudio = (progress: AudioProgress): void => {
    if (this.target) this.target(progress);
    else this.held = progress;
  };

  attach(target: (progress: AudioProgress) => void): void {
    this.target = target;
    if (this.held) target(this.held);
    this.held = undefined;
  }
}

type AudioProgress = { bytes: number; durationMs: number };

function summarise(r: {
  status: string;
  characters: number;
  credits: number;
  durationMs: number;
  playersReached: number;
  playersListening: number;
  played: boolean;
  audioUrl: string | null;
  voice: { name: string };
  playerUrl: string;
  cached: boolean;
  notKept?: { history: boolean; reason: string };
}): string {
  const told = describeSpoken(r);
  if (!r.notKept) return told;
  const what = r.notKept.history ? 'Its audio was not kept' : 'It was not recorded in history';
  return `${told} ${what}: ${r.notKept.reason}.`;
}

function describeSpoken(r: Parameters<typeof summarise>[0]): string {
  const seconds = `${(r.durationMs / 1000).toFixed(1)} s`;
  const cost = r.cached
    ? 'replayed from cache, 0 credits'
    : `${r.credits} credit${r.credits === 1 ? '' : 's'}`;
  const audio = r.audioUrl ? ` Audio: ${r.audioUrl}` : '';
  if (r.status === 'stopped') return `Stopped before the end (${seconds} generated, ${cost}).${audio}`;
  const nobody = nobodyHeard(r, r.playerUrl);
  if (nobody) {
    return `${nobody} Generated ${seconds} of speech as ${r.voice.name} (${r.characters} characters, ${cost}).${audio}`;
  }
  const heard = r.played ? ' and it finished playing' : '';
  return `Spoke ${r.characters} characters as ${r.voice.name} to ${listenersPhrase(r)} (${seconds}, ${cost})${heard}.${audio}`;
}
