import { h, replace, statusLine } from '../dom.js';
import type { ConsoleContext, View } from '../context.js';
import type { Speech } from '../player/player.js';
import { downloadHistory, replayHistory } from '../replay.js';

const STATE_LABEL: Record<Speech['state'], string> = {
  streaming: 'arriving',
  playing: 'playing',
  played: 'played',
  stopped: 'stopped',
  skipped: 'skipped',
  failed: 'failed',
  unheard: 'not heard',
};

const inQueue = (speech: Speech): boolean => speech.state === 'streaming' || speech.state === 'playing';

/** The note after the badge, without repeating the badge ("played" + "played · 2.1 s" → "2.1 s"). */
function noteAfter(label: string, note: string): string {
  if (note === label) return '';
  for (const separator of [' · ', ': '])
    if (note.startsWith(label + separator)) return note.slice(label.length + separator.length);
  return note;
}

/**
 * The player's queue: what plays now and what waits, in play order, then what played recently (newest
 * first), with replay and download.
 */
export function queueView(ctx: ConsoleContext): View {
  const { player } = ctx;
  const queue = h('ol', { className: 'list', id: 'queue-list', 'aria-label': 'Playing and waiting' });
  const list = h('ol', { className: 'list', id: 'recent', 'aria-labelledby': 'recent-title' });
  const recentTitle = h('h3', { id: 'recent-title' }, 'Played recently');
  const status = statusLine();
  const empty = h('p', { className: 'hint' }, 'Nothing has played in this tab yet.');

  /**
   * Speech arrives faster than it plays, so several can be "playing" (all their audio scheduled) at once:
   * only the one heard now is playing; the others wait their turn.
   */
  function label(speech: Speech): string {
    if (!inQueue(speech)) return STATE_LABEL[speech.state];
    if (speech !== player.current) return 'queued';
    const now = player.audio?.context.currentTime ?? 0;
    return speech.audioStart !== null && speech.audioStart <= now ? 'playing' : STATE_LABEL.streaming;
  }

  function item(speech: Speech): HTMLElement {
    const settled = speech.ended && speech.state !== 'playing';
    const badge = label(speech);
    const note = noteAfter(badge, speech.note);
    const replay = h('button', { type: 'button' }, 'Replay');
    replay.setAttribute('aria-label', `Replay: ${speech.text.slice(0, 40)}`);
    replay.addEventListener('click', () => {
      status.textContent = 'Fetching audio…';
      replayHistory(ctx.api, speech.id).then(
        () => (status.textContent = 'Replaying.'),
        (error: Error) => (status.textContent = `Could not replay: ${error.message}`),
      );
    });
    const download = h('button', { type: 'button', className: 'link' }, 'Download');
    download.setAttribute('aria-label', `Download: ${speech.text.slice(0, 40)}`);
    download.addEventListener('click', () => {
      downloadHistory(ctx.api, speech.id).catch(
        (error: Error) => (status.textContent = `Could not download: ${error.message}`),
      );
    });
    return h(
      'li',
      { className: `item state-${speech.state}` },
      h('p', { className: 'item-text' }, speech.text),
      h(
        'p',
        { className: 'meta' },
        `${speech.receivedAt.toLocaleTimeString()} · ${speech.voice.name} · from ${speech.source} · `,
        h('span', { className: 'badge' }, badge),
        note ? ` · ${note}` : '',
      ),
      settled && speech.state !== 'failed' ? h('div', { className: 'row' }, replay, download) : null,
    );
  }

  function render(): void {
    // The player keeps speeches newest first.
    const waiting = player.speeches.filter(inQueue).reverse();
    const done = player.speeches.filter((speech) => !inQueue(speech));
    empty.hidden = player.speeches.length > 0;
    queue.hidden = waiting.length === 0;
    recentTitle.hidden = list.hidden = done.length === 0;
    replace(queue, ...waiting.map(item));
    replace(list, ...done.map(item));
  }
  let pending = false;
  ctx.player.listen({
    onConnection: () => undefined,
    onSettings: () => undefined,
    onSpeechStarted: () => undefined,
    onSpeechesChanged: () => {
      // Coalesce bursts of messages into one redraw.
      if (pending) return;
      pending = true;
      queueMicrotask(() => {
        pending = false;
        render();
      });
    },
  });

  const element = h(
    'section',
    { 'aria-labelledby': 'queue-title' },
    h('h2', { id: 'queue-title' }, 'Queue'),
    h(
      'p',
      { className: 'hint' },
      'Speech plays in the order your agent sends it, top first. Space pauses, Esc stops all.',
    ),
    empty,
    queue,
    recentTitle,
    list,
    status,
  );
  return { id: 'player', title: 'Player', element, show: render };
}
