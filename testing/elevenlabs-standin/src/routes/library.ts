import { validationError } from '../errors.js';
import { sendJson, type Exchange } from '../exchange.js';
import { LIBRARY_VOICES, libraryVoiceWireObject } from '../fixtures/library.js';
import type { ToolDeps } from './deps.js';
import { Checker } from './validate.js';

/** GET /v1/shared-voices: the fixture voice library, filtered and paged (`page` from 0). */
export function sharedVoices(exchange: Exchange, deps: ToolDeps): void {
  const query = exchange.url.searchParams;
  const check = new Checker('query');
  const pageSize = check.number('page_size', query.get('page_size') ?? undefined, 1, 100, true) ?? 30;
  const page = check.number('page', query.get('page') ?? undefined, 0, 10_000, true) ?? 0;
  const category = check.oneOf('category', query.get('category') ?? undefined, [
    'professional',
    'famous',
    'high_quality',
  ]);
  const featured = check.boolean('featured', query.get('featured') ?? undefined);
  const sort = check.oneOf('sort', query.get('sort') ?? undefined, [
    'created_date',
    'usage_character_count_1y',
    'usage_character_count_7d',
    'cloned_by_count',
    'trending',
  ]);
  if (!check.ok) return sendJson(exchange.res, 422, validationError(check.issues));
  const equals = (key: string, value: string) => {
    const wanted = query.get(key);
    return !wanted || wanted.toLowerCase() === value.toLowerCase();
  };
  const search = query.get('search')?.toLowerCase();
  const useCases = query.getAll('use_cases').flatMap((value) => value.split(','));
  const descriptives = query.getAll('descriptives').flatMap((value) => value.split(','));
  let voices = LIBRARY_VOICES.filter(
    (voice) =>
      equals('gender', voice.gender) &&
      equals('age', voice.age) &&
      equals('accent', voice.accent) &&
      equals('language', voice.language) &&
      equals('locale', voice.locale) &&
      (!category || voice.category === category) &&
      (featured === undefined || !featured || voice.featured) &&
      (useCases.length === 0 || useCases.includes(voice.useCase)) &&
      (descriptives.length === 0 || descriptives.includes(voice.descriptive)) &&
      (!search ||
        [voice.name, voice.description, voice.accent, voice.descriptive, voice.useCase, voice.gender]
          .join(' ')
          .toLowerCase()
          .includes(search)),
  );
  if (sort === 'created_date') voices = [...voices].sort((a, b) => b.dateUnix - a.dateUnix);
  else if (sort) voices = [...voices].sort((a, b) => b.clonedByCount - a.clonedByCount);
  const slice = voices.slice(page * pageSize, (page + 1) * pageSize);
  const hasMore = (page + 1) * pageSize < voices.length;
  sendJson(exchange.res, 200, {
    voices: slice.map((voice) => libraryVoiceWireObject(voice, deps.baseUrl)),
    has_more: hasMore,
    total_count: voices.length,
    last_sort_id: slice.at(-1)?.voiceId ?? null,
  });
}
