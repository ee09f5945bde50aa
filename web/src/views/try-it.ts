import type { Model, SpeakResult } from '@earshot/protocol';
import { h, statusLine } from '../dom.js';
import type { ConsoleContext, View } from '../context.js';
import { downloadHistory } from '../replay.js';
import { modelOptions, voiceOptions, voiceSettingsControls } from './controls.js';

/** "N characters, C credits, D s" of a speech. */
function summary(result: SpeakResult): string {
  return `${result.characters} characters, ${result.credits} credits, ${(result.durationMs / 1000).toFixed(1)} s`;
}

/** Type text, pick a voice, model and settings, and hear it on every open player (or download it). */
export function tryItView(ctx: ConsoleContext): View {
  const text = h('textarea', {
    id: 'try-text',
    rows: 5,
    maxLength: 5000,
    placeholder: 'Type something for your agent’s voice to say…',
  });
  const count = h('p', { className: 'meta', id: 'try-count', 'aria-live': 'polite' });
  const voice = h('select', { id: 'try-voice' });
  const model = h('select', { id: 'try-model' });
  const sliders = voiceSettingsControls('try');
  const speak = h('button', { type: 'submit', className: 'primary' }, 'Speak');
  const download = h('button', { type: 'button' }, 'Download WAV');
  const status = statusLine();
  let models: Model[] = [];

  function updateCount(): void {
    const chars = text.value.length;
    const chosen =
      models.find((m) => m.id === model.value) ??
      models.find((m) => m.id === ctx.settings?.defaultModel) ??
      models.find((m) => m.isDefault) ??
      models[0];
    const rate = chosen?.creditsPerCharacter ?? 0;
    const credits = Math.ceil(chars * rate);
    count.textContent = `${chars} characters · ${rate === 0 ? 'free (offline voice)' : `about ${credits} credits`}`;
  }
  text.addEventListener('input', updateCount);
  model.addEventListener('change', updateCount);

  async function send(play = true): Promise<SpeakResult | null> {
    if (!text.value.trim()) {
      status.textContent = 'Type some text first.';
      text.focus();
      return null;
    }
    status.textContent = play ? 'Speaking…' : 'Generating…';
    try {
      const result = await ctx.api.speak({
        text: text.value,
        voice: voice.value || undefined,
        model: model.value || undefined,
        settings: sliders.value(),
        source: 'console',
        ...(play ? {} : { play: false }),
      });
      // Generated only (for Download): players are not involved, so their count would mislead.
      if (play) {
        status.textContent =
          `${result.status === 'completed' ? 'Spoken' : result.status} with ${result.voice.name}: ${summary(result)}, ` +
          `${result.playersReached} player(s) reached.`;
      }
      return result;
    } catch (error) {
      status.textContent = `Could not speak: ${(error as Error).message}`;
      return null;
    }
  }

  const form = h(
    'form',
    { className: 'stack', 'aria-labelledby': 'try-title' },
    h('label', { htmlFor: 'try-text' }, 'Text'),
    text,
    count,
    h(
      'div',
      { className: 'grid2' },
      h('div', { className: 'field' }, h('label', { htmlFor: 'try-voice' }, 'Voice'), voice),
      h('div', { className: 'field' }, h('label', { htmlFor: 'try-model' }, 'Model'), model),
    ),
    sliders.element,
    h('div', { className: 'row' }, speak, download),
    status,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void send();
  });
  download.addEventListener('click', () => {
    void send(false).then(async (result) => {
      if (!result) return;
      try {
        const filename = await downloadHistory(ctx.api, result.id);
        status.textContent = `Downloaded ${filename}: ${result.voice.name}, ${summary(result)}.`;
      } catch (error) {
        status.textContent = `Could not download: ${(error as Error).message} (is "Save audio" on in Settings?)`;
      }
    });
  });

  let failed = false;
  async function load(): Promise<void> {
    try {
      const [voices, loadedModels] = await Promise.all([ctx.voices(), ctx.models()]);
      models = loadedModels;
      voiceOptions(voice, voices, voice.value || ctx.settings?.defaultVoice || null);
      const saved = ctx.settings?.defaultModel ?? null;
      modelOptions(model, models, model.value || saved, saved);
      if (ctx.settings && !text.value) sliders.set(ctx.settings.voiceSettings);
      updateCount();
      if (failed) status.textContent = '';
      failed = false;
    } catch (error) {
      failed = true;
      status.textContent = `Could not load voices: ${(error as Error).message}`;
    }
  }

  const element = h(
    'section',
    { 'aria-labelledby': 'try-title' },
    h('h2', { id: 'try-title' }, 'Try it'),
    h('p', { className: 'hint' }, 'Hear any text on every open player of yours, as your agent would say it.'),
    form,
  );
  updateCount();
  return {
    id: 'try',
    title: 'Try it',
    element,
    show: () => void load(),
    recover: () => failed && void load(),
  };
}
