import { OGG_OPUS, type HistoryItem } from '@earshot/protocol';
import { formatDuration, h, replace, statusLine } from '../dom.js';
import type { ConsoleContext, View } from '../context.js';
import { downloadHistory, replayHistory } from '../replay.js';

const PAGE_SIZE = 50;

const SOURCE_LABEL: Record<HistoryItem['source'], string> = {
  mcp: 'agent (MCP)',
  console: 'console',
  cli: 'CLI',
  api: 'API',
};

/** Everything spoken for this user: search, replay, download as WAV, delete; who asked for each. */
export function historyView(ctx: ConsoleContext): View {
  const search = h('input', { type: 'search', id: 'history-search', placeholder: 'Words in the text…' });
  const list = h('ul', { className: 'list', id: 'history-list', 'aria-label': 'History' });
  const status = statusLine();
  const count = h('p', { className: 'meta', id: 'history-count' });

  function row(item: HistoryItem): HTMLElement {
    const short = item.text.slice(0, 40);
    const actions = h('div', { className: 'row' });
    if (item.audio) {
      const replay = h('button', { type: 'button', 'aria-label': `Replay: ${short}` }, 'Replay');
      replay.addEventListener('click', () => {
        replayHistory(ctx.api, item.id).then(
          () => (status.textContent = 'Replaying in this tab.'),
          (error: Error) => (status.textContent = `Could not replay: ${error.message}`),
        );
      });
      const download = h(
        'button',
        { type: 'button', 'aria-label': `Download WAV: ${short}` },
        'Download WAV',
      );
      download.addEventListener('click', () => {
        downloadHistory(ctx.api, item.id).catch(
          (error: Error) => (status.textContent = `Could not download: ${error.message}`),
        );
      });
      const opus =
        item.audio.mimeType === OGG_OPUS
          ? h('button', { type: 'button', 'aria-label': `Download Opus: ${short}` }, 'Download Opus')
          : null;
      opus?.addEventListener('click', () => {
        downloadHistory(ctx.api, item.id, 'opus').catch(
          (error: Error) => (status.textContent = `Could not download: ${error.message}`),
        );
      });
      const players = h(
        'button',
        { type: 'button', 'aria-label': `Play on all players: ${short}` },
        'Play on all players',
      );
      players.addEventListener('click', () => {
        status.textContent = 'Sending to your players…';
        ctx.api.replayOnPlayers(item.id).then(
          (result) => (status.textContent = `Played again on ${result.playersReached} player(s).`),
          (error: Error) => (status.textContent = `Could not play: ${error.message}`),
        );
      });
      actions.append(replay, players, download);
      if (opus) actions.append(opus);
    }
    const remove = h(
      'button',
      { type: 'button', className: 'danger', 'aria-label': `Delete: ${short}` },
      'Delete',
    );
    remove.addEventListener('click', () => {
      ctx.api.deleteHistory(item.id).then(
        () => {
          status.textContent = 'Deleted.';
          void load();
        },
        (error: Error) => (status.textContent = `Could not delete: ${error.message}`),
      );
    });
    actions.append(remove);
    const when = new Date(item.createdAt);
    return h(
      'li',
      { className: `item state-${item.status}` },
      h('p', { className: 'item-text' }, item.text),
      h(
        'p',
        { className: 'meta' },
        h('time', { dateTime: item.createdAt }, when.toLocaleString()),
        ` · ${item.voice.name} · from `,
        h('span', { className: 'badge' }, SOURCE_LABEL[item.source]),
        ` · ${item.characters} chars · ${item.credits} credits · ${formatDuration(item.durationMs)}`,
        item.status === 'completed' ? '' : ` · ${item.status}`,
        item.audio ? '' : ' · no audio saved',
      ),
      actions,
    );
  }

  const older = h('button', { type: 'button', hidden: true }, 'Older');
  let items: HistoryItem[] = [];
  let cursor: string | null = null;

  let failed = false;
  async function load(append = false): Promise<void> {
    try {
      const page = await ctx.api.history(
        search.value.trim(),
        PAGE_SIZE,
        append ? (cursor ?? undefined) : undefined,
      );
      items = append ? [...items, ...page.items] : [...page.items];
      cursor = page.nextCursor;
      older.hidden = cursor === null;
      if (append) list.append(...page.items.map(row));
      else replace(list, ...items.map(row));
      count.textContent = items.length
        ? `${items.length} item${items.length === 1 ? '' : 's'}.`
        : search.value
          ? 'Nothing matches.'
          : 'Nothing spoken yet.';
      if (failed) status.textContent = '';
      failed = false;
    } catch (error) {
      failed = true;
      status.textContent = `Could not load history: ${(error as Error).message}`;
    }
  }
  older.addEventListener('click', () => void load(true));
  let debounce: ReturnType<typeof setTimeout> | undefined;
  search.addEventListener('input', () => {
    clearTimeout(debounce);
    debounce = setTimeout(() => void load(), 250);
  });

  const element = h(
    'section',
    { 'aria-labelledby': 'history-title' },
    h('h2', { id: 'history-title' }, 'History'),
    h(
      'div',
      { className: 'filters' },
      h('div', { className: 'field' }, h('label', { htmlFor: 'history-search' }, 'Search history'), search),
    ),
    count,
    status,
    list,
    h('div', { className: 'row' }, older),
  );
  return {
    id: 'history',
    title: 'History',
    element,
    show: () => void load(),
    recover: () => failed && void load(),
  };
}
