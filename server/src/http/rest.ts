import { Readable } from 'node:stream';
import type { FastifyInstance, onRequestHookHandler } from 'fastify';
import { OGG_OPUS, type HistoryPage, type Usage } from '@earshot/protocol';
import { z } from 'zod';
import { EarshotError } from '../errors.js';
import { storedWav } from '../services/stored-wav.js';
import { LanguageSchema } from '../services/language.js';
import { SettingsPatchSchema, VoiceSettingsSchema } from '../services/settings.js';
import type { AppDeps } from './deps.js';

const speakBodySchema = (maxTextLength: number) =>
  z
    .object({
      text: z.string().max(maxTextLength, { error: tooLongText(maxTextLength) }),
      voice: z.string().max(100).optional(),
      model: z.string().max(100).optional(),
      settings: VoiceSettingsSchema.optional(),
      language: LanguageSchema.optional(),
      wait: z.enum(['generated', 'played']).optional(),
      fresh: z.boolean().optional(),
      /** false: generate and keep in history without playing (the console's Download). */
      play: z.boolean().optional(),
      source: z.enum(['console', 'cli', 'api']).optional(),
    })
    .strict();

/** `GET /history/:id/audio`: the stored format (Ogg Opus; PCM items come as WAV) unless `format` says otherwise. */
const AudioQuerySchema = z.object({ format: z.enum(['wav', 'opus']).optional() });

const HistoryQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  /** `nextCursor` of the previous page. */
  cursor: z.string().max(2048).optional(),
  /** Only items created before this ISO time (older paging; `cursor` is exact when times are equal). */
  before: z.string().max(40).optional(),
  search: z.string().max(200).optional(),
});

const LibraryQuerySchema = z.object({
  search: z.string().max(100).optional(),
  gender: z.string().max(30).optional(),
  age: z.string().max(30).optional(),
  accent: z.string().max(30).optional(),
  language: z.string().max(10).optional(),
  use_case: z.string().max(40).optional(),
  category: z.string().max(30).optional(),
  page_size: z.coerce.number().int().min(1).max(100).default(30),
  page: z.coerce.number().int().min(0).max(1000).default(0),
});

const UsageQuerySchema = z.object({ days: z.coerce.number().int().min(1).max(366).default(30) });

/** The same advice the speech service gives, for text refused at the edge. */
function tooLongText(maxTextLength: number) {
  return (issue: { input?: unknown }) =>
    `${String(issue.input).length} characters, but Earshot takes at most ${maxTextLength} per call; split it into several calls`;
}

function parse<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const result = schema.safeParse(value ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const where = issue?.path.length ? `${issue.path.join('.')}: ` : '';
  const code = issue?.code === 'too_big' && issue.path[0] === 'text' ? 'text_too_long' : 'invalid_input';
  throw new EarshotError(code, `Invalid ${what}: ${where}${issue?.message ?? 'malformed'}.`);
}

/**
 * REST for the console and scripts, under /api/v1; every route needs the bearer key, checked before the body
 * is read (`authenticate` is an onRequest hook that sets `request.user` or replies 401).
 */
export function registerRestRoutes(
  app: FastifyInstance,
  deps: AppDeps,
  authenticate: onRequestHookHandler,
): void {
  const SpeakBodySchema = speakBodySchema(deps.config.maxTextLength);
  app.register(
    async (api) => {
      api.addHook('onRequest', authenticate);

      api.get('/voices', async (request) => {
        const { search } = parse(
          z.object({ search: z.string().max(100).optional() }),
          request.query,
          'query',
        );
        return { voices: await deps.catalog.searchVoices(search) };
      });

      api.get('/models', async () => ({ models: await deps.catalog.listModels() }));

      api.get('/library', async (request) => {
        const query = parse(LibraryQuerySchema, request.query, 'query');
        const studio = deps.engine.studio;
        if (!studio) {
          throw new EarshotError(
            'invalid_input',
            'The shared voice library needs ElevenLabs (set ELEVENLABS_API_KEY).',
          );
        }
        const { page_size, use_case, ...rest } = query;
        return studio.searchLibrary({ ...rest, useCase: use_case, pageSize: page_size, page: query.page });
      });

      api.get('/settings', async (request) => deps.settings.get(request.user));

      api.put('/settings', async (request) => {
        const patch = parse(SettingsPatchSchema, request.body, 'settings');
        if (patch.defaultVoice) patch.defaultVoice = (await deps.catalog.resolveVoice(patch.defaultVoice)).id;
        if (patch.defaultModel) await deps.catalog.resolveModel(patch.defaultModel, 0);
        return deps.settings.update(request.user, patch);
      });

      api.post('/speak', async (request) => {
        const body = parse(SpeakBodySchema, request.body, 'request body');
        const started = await deps.speech.start(request.user, body, {
          source: body.source ?? 'api',
          silent: body.play === false,
        });
        return deps.speech.finish(started, body.wait);
      });

      api.post('/stop', async (request) => ({ stopped: deps.hub.stop(request.user) }));

      api.get('/history', async (request) => {
        const query = parse(HistoryQuerySchema, request.query, 'query');
        const page = await deps.store.listHistory(request.user, query);
        return { items: page.items, nextCursor: page.nextCursor } satisfies HistoryPage;
      });

      api.get<{ Params: { id: string } }>('/history/:id', async (request) => {
        const item = await deps.store.getHistory(request.user, request.params.id);
        if (!item) throw new EarshotError('not_found', 'No such history item.');
        return item;
      });

      api.post<{ Params: { id: string } }>('/history/:id/replay', async (request) => {
        const started = await deps.speech.replay(request.user, request.params.id, { source: 'console' });
        return deps.speech.finish(started);
      });

      api.get<{ Params: { id: string } }>('/history/:id/audio', async (request, reply) => {
        const { format } = parse(AudioQuerySchema, request.query, 'query');
        const item = await deps.store.getHistory(request.user, request.params.id);
        const audio = item?.audio;
        if (!item || !audio) throw new EarshotError('not_found', 'No stored audio for this item.');
        const opus = audio.mimeType === OGG_OPUS;
        if (format === 'opus' && !opus) {
          throw new EarshotError(
            'invalid_input',
            'This audio was stored as PCM (before Earshot kept Opus); download it as WAV (?format=wav).',
          );
        }
        // Missing: 404; shorter than recorded: 410 — found before the 200 is sent, never a hang.
        // A generator, not pipe(): when the client goes away Fastify destroys the body, which ends the
        // generator, which destroys the file stream (pipe() left the file open for good). A file cut
        // while streaming errors the stream (it never ends early in silence), so the response is aborted.
        if (opus && format !== 'wav') {
          const stored = await deps.store.readAudio(request.user, item.id);
          return reply
            .type(OGG_OPUS)
            .header('content-length', String(stored.bytes))
            .header('content-disposition', `attachment; filename="earshot-${item.id}.opus"`)
            .header('cache-control', 'private, max-age=3600')
            .send(Readable.from(stored.stream, { objectMode: false }));
        }
        const wav = await storedWav(deps.store, request.user, item);
        return reply
          .type('audio/wav')
          .header('content-length', String(wav.bytes))
          .header('content-disposition', `attachment; filename="earshot-${item.id}.wav"`)
          .header('cache-control', 'private, max-age=3600')
          .send(Readable.from(wav.stream, { objectMode: false }));
      });

      api.delete<{ Params: { id: string } }>('/history/:id', async (request, reply) => {
        const deleted = await deps.store.deleteHistory(request.user, request.params.id);
        if (!deleted) throw new EarshotError('not_found', 'No such history item.');
        return reply.code(204).send();
      });

      api.get('/usage', async (request) => {
        const { days } = parse(UsageQuerySchema, request.query, 'query');
        const history = await deps.store.getUsage(request.user, days);
        const today = history[history.length - 1]!;
        const saved = await deps.settings.get(request.user);
        const budget = await deps.speech.budgetStatus(request.user, saved);
        const limits = deps.settings.effective(saved);
        const audio = await deps.store.getAudioUsage(request.user);
        // The provider account's credits, when there is one; a failure here must not hide the rest.
        const account = deps.engine.getSubscription
          ? await deps.engine.getSubscription().catch(() => null)
          : null;
        return {
          account,
          user: request.user,
          limit: budget.limit,
          remaining: budget.remaining,
          resetsAt: budget.resetsAt,
          today,
          days: history,
          audio: {
            bytes: audio.bytes,
            quotaBytes: limits.audioQuotaBytes,
            retentionDays: limits.audioRetentionDays,
          },
          serverLimits: deps.settings.serverLimits,
        } satisfies Usage;
      });
    },
    { prefix: '/api/v1' },
  );
}

declare module 'fastify' {
  interface FastifyRequest {
    user: string;
  }
}
