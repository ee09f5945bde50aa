import { h, replace } from '../dom.js';
import type { ConsoleContext } from '../context.js';
import { splitWords, wordAt, type Word } from '../player/captions.js';
import type { Speech } from '../player/player.js';

/**
 * The always-visible player panel: the "Enable audio" step, the words being spoken with live highlighting,
 * the output level, and stop / skip / pause.
 */
export function nowPlaying(ctx: ConsoleContext): HTMLElement {
  const { player } = ctx;
  const enable = h('button', { type: 'button', className: 'primary', id: 'enable-audio' }, 'Enable audio');
  const hint = h(
    'p',
    { className: 'hint', id: 'audio-hint' },
    'Browsers only play sound after a click. Click once; it stays on while this tab is open.',
  );
  const nowText = h(
    'p',
    { id: 'now-text', className: 'now-text', 'aria-live': 'polite' },
    'Nothing yet. When your agent calls ',
    h('code', {}, 'speak'),
    ', you will hear it here.',
  );
  const nowMeta = h('p', { id: 'now-meta', className: 'meta' });
  const level = h('meter', { id: 'level', min: 0, max: 1, value: 0, 'aria-label': 'Output level' });
  const pause = h('button', { type: 'button', title: 'Pause or resume (Space)', disabled: true }, 'Pause');
  const skip = h('button', { type: 'button', title: 'Skip this speech in this tab' }, 'Skip');
  const stop = h('button', { type: 'button', title: 'Stop and clear the queue (Esc)' }, 'Stop');
  const notify = h('button', { type: 'button', className: 'link' }, 'Notify me when the tab is hidden');
  if (!('Notification' in window) || Notification.permission !== 'default') notify.hidden = true;

  enable.addEventListener('click', () => {
    void player.enableAudio().then(() => {
      enable.textContent = 'Audio on';
      enable.disabled = true;
      render();
      hint.textContent = 'Audio is on. Speech plays as soon as it arrives. Space pauses, Esc stops.';
    });
  });
  pause.addEventListener('click', () => void player.togglePause());
  skip.addEventListener('click', () => player.skip());
  stop.addEventListener('click', () => player.stop());
  notify.addEventListener('click', () => {
    void Notification.requestPermission().then(() => (notify.hidden = true));
  });

  let shown: Speech | null = null;
  let words: Word[] = [];
  let spans: HTMLElement[] = [];
  let active = -1;

  function showSpeech(speech: Speech): void {
    shown = speech;
    words = splitWords(speech.text);
    spans = [];
    active = -1;
    // Words become spans, the whitespace between them stays text, so the text reads exactly as sent.
    const parts: (Node | string)[] = [];
    let at = 0;
    for (const word of words) {
      if (word.start > at) parts.push(speech.text.slice(at, word.start));
      const span = h('span', { className: 'word' }, speech.text.slice(word.start, word.end));
      spans.push(span);
      parts.push(span);
      at = word.end;
    }
    if (at < speech.text.length) parts.push(speech.text.slice(at));
    replace(nowText, ...parts);
  }

  function render(): void {
    const current = player.current ?? player.speeches[0] ?? null;
    if (current && current !== shown) showSpeech(current);
    if (current) {
      const parts = [current.voice.name, `from ${current.source}`];
      if (current.state === 'streaming' || current.state === 'playing')
        parts.push(player.paused ? 'paused' : 'speaking');
      else if (current.note && (player.audio || current.state !== 'unheard')) parts.push(current.note);
      if (!player.audio) parts.push('audio is not enabled: click "Enable audio" to hear it');
      else if (!player.autoPlay) parts.push('auto-play is off in Settings');
      nowMeta.textContent = parts.join(' · ');
    }
    pause.textContent = player.paused ? 'Resume' : 'Pause';
    const playing = current?.state === 'streaming' || current?.state === 'playing';
    skip.disabled = !playing;
    // Pausing silence would only hold back the next speech without a sign why; resuming stays possible.
    pause.disabled = !player.audio || (!playing && !player.paused);
    document.title = playing && document.hidden ? '▶ Earshot — speaking' : 'Earshot';
  }

  function tick(): void {
    level.value = player.lastLevel;
    const speech = shown;
    if (!speech || spans.length === 0) return;
    let next = active;
    if (speech.state === 'played')
      next = spans.length; // all spoken
    else if (speech.state === 'playing' || speech.state === 'streaming') {
      const { positionMs, knownMs } = player.position(speech);
      if (speech.audioStart !== null && !player.paused) {
        next = wordAt(words, speech.captions.charAt(positionMs, knownMs, speech.ended));
      }
    }
    if (next === active) return;
    active = next;
    spans.forEach((span, index) => {
      span.classList.toggle('spoken', index < active);
      span.classList.toggle('speaking', index === active);
    });
  }
  // Timers (not animation frames) so captions and meter keep up in a background tab too.
  setInterval(tick, 50);

  player.listen({
    onConnection: () => undefined,
    onSettings: () => render(),
    onSpeechesChanged: render,
    onSpeechStarted: (speech) => {
      if (document.hidden && 'Notification' in window && Notification.permission === 'granted') {
        new Notification(`Earshot: ${speech.voice.name}`, {
          body: speech.text.slice(0, 160),
          tag: 'earshot',
        });
      }
    },
  });
  document.addEventListener('visibilitychange', render);

  return h(
    'section',
    { className: 'now card', 'aria-label': 'Player' },
    h('div', { className: 'row' }, enable, notify),
    hint,
    h('p', { className: 'label' }, 'Now speaking'),
    nowText,
    nowMeta,
    level,
    h('div', { className: 'row controls' }, pause, skip, stop),
  );
}
