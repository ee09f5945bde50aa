import { detailError, validationError } from '../errors.js';
import { sendJson, type Exchange } from '../exchange.js';
import { MODEL_FIXTURES, modelWireObject } from '../fixtures/models.js';
import { subscriptionWireObject, type SubscriptionState } from '../fixtures/subscription.js';
import { voiceWireObject, type VoiceFixture } from '../fixtures/voices.js';

export interface CatalogDeps {
  readonly baseUrl: string;
  subscription(): SubscriptionState;
  /** The account's voices: premade fixtures and voices saved from voice design. */
  ownVoices(): readonly VoiceFixture[];
  /** Any voice usable by id (own voices and library voices). */
  findVoice(voiceId: string): VoiceFixture | undefined;
}

/** GET /v2/voices: search, sort, filter and paginate the fixture voices like the real endpoint. */
export function searchVoices(exchange: Exchange, deps: CatalogDeps): void {
  const query = exchange.url.searchParams;
  const pageSize = Number(query.get('page_size') ?? 10);
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 100) {
    sendJson(
      exchange.res,
      422,
      validationError([
        {
          loc: ['query', 'page_size'],
          msg: 'Input should be less than or equal to 100',
          type: 'less_than_equal',
          input: query.get('page_size'),
        },
      ]),
    );
    return;
  }
  let voices = [...deps.ownVoices()];
  const search = query.get('search')?.toLowerCase();
  if (search) voices = voices.filter((voice) => matchesSearch(voice, search));
  const category = query.get('category');
  if (category) voices = voices.filter((voice) => (voice.category ?? 'premade') === category);
  const voiceType = query.get('voice_type');
  // Premade voices are the account's "default" voices, voices saved from voice design its "personal" ones.
  if (voiceType === 'default') voices = voices.filter((voice) => (voice.category ?? 'premade') === 'premade');
  else if (voiceType === 'personal') voices = voices.filter((voice) => voice.category === 'generated');
  else if (voiceType && voiceType !== 'saved') voices = [];
  const ids = query.getAll('voice_ids');
  if (ids.length > 0) voices = voices.filter((voice) => ids.includes(voice.voiceId));
  if (query.get('sort') === 'name') voices.sort((a, b) => a.name.localeCompare(b.name));
  if (query.get('sort_direction') === 'desc') voices.reverse();
  const offset = decodePageToken(query.get('next_page_token'));
  const page = voices.slice(offset, offset + pageSize);
  const hasMore = offset + pageSize < voices.length;
  sendJson(exchange.res, 200, {
    voices: page.map((voice) => voiceWireObject(voice, deps.baseUrl, false)),
    has_more: hasMore,
    total_count: voices.length,
    next_page_token: hasMore ? encodePageToken(offset + pageSize) : null,
  });
}

export function listVoices(exchange: Exchange, deps: CatalogDeps): void {
  sendJson(exchange.res, 200, {
    voices: deps.ownVoices().map((voice) => voiceWireObject(voice, deps.baseUrl, false)),
  });
}

export function getVoice(exchange: Exchange, deps: CatalogDeps, voiceId: string): void {
  const voice = deps.findVoice(voiceId);
  if (!voice) {
    sendJson(exchange.res, 404, voiceNotFound(voiceId, exchange.requestId));
    return;
  }
  const withSettings = exchange.url.searchParams.get('with_settings') !== 'false';
  sendJson(exchange.res, 200, voiceWireObject(voice, deps.baseUrl, withSettings));
}

export function listModels(exchange: Exchange): void {
  sendJson(exchange.res, 200, MODEL_FIXTURES.map(modelWireObject));
}

export function getSubscription(exchange: Exchange, deps: CatalogDeps): void {
  sendJson(exchange.res, 200, subscriptionWireObject(deps.subscription()));
}

export function voiceNotFound(voiceId: string, requestId: string) {
  return detailError(
    'not_found_error',
    'voice_not_found',
    `A voice with the voice_id ${voiceId} was not found.`,
    requestId,
  );
}

function matchesSearch(voice: VoiceFixture, search: string): boolean {
  const haystack = [voice.name, voice.description, ...Object.values(voice.labels)].join(' ').toLowerCase();
  return haystack.includes(search);
}

function encodePageToken(offset: number): string {
  return Buffer.from(JSON.stringify({ offset })).toString('base64url');
}

function decodePageToken(token: string | null): number {
  if (!token) return 0;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    const offset = typeof parsed === 'object' && parsed !== null && 'offset' in parsed ? parsed.offset : 0;
    return typeof offset === 'number' && Number.isInteger(offset) && offset >= 0 ? offset : 0;
  } catch {
    return 0;
  }
}
