import { detailError, validationError } from '../errors.js';
import { sendJson, type Exchange } from '../exchange.js';
import { historyWireObject } from '../state.js';
import type { ToolDeps } from './deps.js';
import { Checker } from './validate.js';

/** GET /v1/history: generations made on this stand-in, newest first. */
export function listHistory(exchange: Exchange, deps: ToolDeps): void {
  const query = exchange.url.searchParams;
  const check = new Checker('query');
  const pageSize = check.number('page_size', query.get('page_size') ?? undefined, 1, 1000, true) ?? 100;
  const direction =
    check.oneOf('sort_direction', query.get('sort_direction') ?? undefined, ['asc', 'desc']) ?? 'desc';
  if (!check.ok) return sendJson(exchange.res, 422, validationError(check.issues));
  const voiceId = query.get('voice_id');
  const modelId = query.get('model_id');
  const search = query.get('search')?.toLowerCase();
  let items = deps.history.all.filter(
    (item) =>
      (!voiceId || item.voiceId === voiceId || item.dialogue?.some((line) => line.voice_id === voiceId)) &&
      (!modelId || item.modelId === modelId) &&
      (!search || item.text.toLowerCase().includes(search)),
  );
  if (direction === 'asc') items = [...items].reverse();
  const after = query.get('start_after_history_item_id');
  if (after) {
    const index = items.findIndex((item) => item.historyItemId === after);
    items = index < 0 ? [] : items.slice(index + 1);
  }
  const page = items.slice(0, pageSize);
  sendJson(exchange.res, 200, {
    history: page.map(historyWireObject),
    last_history_item_id: page.at(-1)?.historyItemId ?? null,
    has_more: items.length > pageSize,
    scanned_until: page.at(-1)?.dateUnix ?? null,
  });
}

function notFound(exchange: Exchange, id: string): void {
  sendJson(
    exchange.res,
    404,
    detailError(
      'not_found_error',
      'history_item_not_found',
      `History item ${id} was not found.`,
      exchange.requestId,
    ),
  );
}

export function getHistoryItem(exchange: Exchange, deps: ToolDeps, id: string): void {
  const item = deps.history.find(id);
  if (!item) return notFound(exchange, id);
  sendJson(exchange.res, 200, historyWireObject(item));
}

export function getHistoryAudio(exchange: Exchange, deps: ToolDeps, id: string): void {
  const item = deps.history.find(id);
  if (!item) return notFound(exchange, id);
  exchange.res.writeHead(200, { 'content-type': item.contentType, 'content-length': item.audio.length });
  exchange.res.end(item.audio);
}

export function deleteHistoryItem(exchange: Exchange, deps: ToolDeps, id: string): void {
  if (!deps.history.delete(id)) return notFound(exchange, id);
  sendJson(exchange.res, 200, { status: 'ok' });
}
