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

/** The player's queue: what is playing now and what played recently, with replay and download. */
export function queueView(ctx: ConsoleContext): View {
  const list = h('ol', { className: 'list', id: 'recent', 'aria-label': 'Queue and recent speech' });
  const status = statusLine();
  const empty = h('p', { className: 'hint' }, 'Nothing has played in this tab yet.');

  function item(speech: Speech): HTMLElement {
    const settled = speech.ended && speech.state !== 'playing';
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
        h('span', { className: 'badge' }, STATE_LABEL[speech.state]),
        speech.note && speech.note !== STATE_LABEL[speech.state] ? ` · ${speech.note}` : '',
      ),
      settled && speech.state !== 'failed' ? h('div', { className: 'row' }, replay, download) : null,
    );
  }

  function render(): void {
    empty.hidden = ctx.player.speeches.length > 0;
    replace(list, ...ctx.player.speeches.map(item));
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
      'Speech plays in order as your agent sends it. Space pauses, Esc stops all.',
    ),
    empty,
    list,
    status,
  );
  return { id: 'player', title: 'Player', element, show: render };
}
