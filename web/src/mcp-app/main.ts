import { App } from '@modelcontextprotocol/ext-apps/app-with-deps';
import { splitWords, wordAt } from '../player/captions.js';
import { Player, type Speech } from '../player/player.js';

/** What a tool result's `_meta["earshot/player"]` carries (see server/src/mcp/player-app.ts). */
interface InChatPlayerMeta {
  speechId: string;
  playerToken: string;
  socketUrl: string;
  autoplay: boolean;
}

const status = document.getElementById('status')!;
const textEl = document.getElementById('text')!;
const playButton = document.getElementById('play') as HTMLButtonElement;
const stopButton = document.getElementById('stop') as HTMLButtonElement;

/** What the browser tests read (`earshotApp`), like the console's `earshotPlayer`. */
const view = {
  player: null as Player | null,
  speechId: null as string | null,
  /** Words highlighted as spoken so far. */
  spokenWords: 0,
  stopped: false,
};
(window as unknown as { earshotApp: typeof view }).earshotApp = view;

function readMeta(meta: Record<string, unknown> | undefined): InChatPlayerMeta | null {
  const value = meta?.['earshot/player'] as Partial<InChatPlayerMeta> | undefined;
  if (!value || typeof value.playerToken !== 'string' || typeof value.socketUrl !== 'string') return null;
  if (typeof value.speechId !== 'string') return null;
  return { ...value, autoplay: value.autoplay !== false } as InChatPlayerMeta;
}

let spans: HTMLElement[] = [];
let shownId: string | null = null;

function showText(speech: Speech): void {
  shownId = speech.id;
  textEl.replaceChildren();
  spans = [];
  let at = 0;
  for (const word of splitWords(speech.text)) {
    textEl.append(speech.text.slice(at, word.start));
    const span = document.createElement('span');
    span.className = 'word';
    span.textContent = speech.text.slice(word.start, word.end);
    spans.push(span);
    textEl.append(span);
    at = word.end;
  }
  textEl.append(speech.text.slice(at));
}

function render(player: Player): void {
  const speech = player.speeches[0];
  playButton.hidden = player.audible === 'on';
  if (!speech) return;
  if (shownId !== speech.id) showText(speech);
  const words = splitWords(speech.text);
  const { positionMs, knownMs } = player.position(speech);
  let spoken = -1;
  if (speech.state === 'played') spoken = words.length - 1;
  else if (player.audible === 'on' && speech.audioStart !== null)
    spoken = wordAt(words, speech.captions.charAt(positionMs, knownMs, speech.ended)) - 1;
  view.spokenWords = Math.max(view.spokenWords, spoken + 1);
  spans.forEach((span, index) => {
    span.classList.toggle('spoken', index < view.spokenWords);
    span.classList.toggle('speaking', index === view.spokenWords && speech.state === 'playing');
  });
  const settled = ['played', 'stopped', 'failed', 'skipped', 'unheard'].includes(speech.state);
  stopButton.disabled = settled;
  if (player.audible === 'off' && !settled) status.textContent = 'Press Play to hear it.';
  else if (speech.state === 'streaming' || speech.state === 'playing')
    status.textContent = `${speech.voice.name} is speaking`;
  else status.textContent = speech.note;
}

function start(meta: InChatPlayerMeta): void {
  if (view.player) return;
  const player = new Player(meta.socketUrl, { speechToken: meta.playerToken });
  view.player = player;
  view.speechId = meta.speechId;
  player.listen({
    onConnection: (state) => {
      if (state.kind === 'closed' && !player.speeches[0])
        status.textContent = 'This speech can no longer be played here (its link expired).';
    },
    onSpeechesChanged: () => render(player),
    onSpeechStarted: () => render(player),
    onSettings: () => undefined,
  });
  setInterval(() => render(player), 100);
  let connected = false;
  const connect = () => {
    if (connected) return;
    connected = true;
    player.connect();
  };
  // Must run in the click itself: a frame plays sound only after a user gesture, unless the host allows autoplay.
  playButton.addEventListener('click', () => {
    void player.enableAudio();
    connect();
  });
  stopButton.addEventListener('click', () => {
    view.stopped = true;
    player.stop();
  });
  playButton.hidden = false;
  if (meta.autoplay) {
    // Try to play at once; when the browser blocks it, the context stays suspended and Play is shown.
    void player.enableAudio();
    connect();
  } else {
    status.textContent = 'Press Play to hear it.';
  }
}

const app = new App({ name: 'Earshot player', version: '0.1.0' }, {});
app.ontoolresult = (result) => {
  const meta = readMeta(result._meta);
  if (meta) start(meta);
  else status.textContent = 'Nothing to play: this result has no speech for the chat.';
};
void app.connect();
