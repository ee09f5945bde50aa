import type { UserSettings, Voice } from '@earshot/protocol';
import { h, statusLine } from '../dom.js';
import type { ConsoleContext, View } from '../context.js';
import { modelOptions, voiceOptions, voiceSettingsControls } from './controls.js';

/** The user's defaults, saved on the server; changes made elsewhere show up here live. */
export function settingsView(ctx: ConsoleContext): View {
  const voice = h('select', { id: 'settings-voice' });
  const model = h('select', { id: 'settings-model' });
  const sliders = voiceSettingsControls('settings');
  const autoPlay = h('input', { type: 'checkbox', id: 'settings-autoplay' });
  const saveAudio = h('input', { type: 'checkbox', id: 'settings-saveaudio' });
  const dailyLimit = h('input', {
    type: 'number',
    id: 'settings-daily',
    min: 0,
    step: 100,
    inputMode: 'numeric',
    placeholder: 'Server default',
  });
  const status = statusLine();

  let voiceList: Voice[] = [];
  function fill(settings: UserSettings): void {
    voiceOptions(voice, voiceList, settings.defaultVoice);
    voice.value = settings.defaultVoice ?? '';
    model.value = settings.defaultModel ?? '';
    sliders.set(settings.voiceSettings);
    autoPlay.checked = settings.autoPlay;
    saveAudio.checked = settings.saveAudio;
    dailyLimit.value =
      settings.dailyCharLimit === null || settings.dailyCharLimit === undefined
        ? ''
        : String(settings.dailyCharLimit);
  }

  const form = h(
    'form',
    { className: 'stack', 'aria-labelledby': 'settings-title' },
    h(
      'div',
      { className: 'grid2' },
      h('div', { className: 'field' }, h('label', { htmlFor: 'settings-voice' }, 'Default voice'), voice),
      h('div', { className: 'field' }, h('label', { htmlFor: 'settings-model' }, 'Default model'), model),
    ),
    sliders.element,
    h(
      'div',
      { className: 'check' },
      autoPlay,
      h('label', { htmlFor: 'settings-autoplay' }, 'Auto-play: players start speech as it arrives'),
    ),
    h(
      'div',
      { className: 'check' },
      saveAudio,
      h('label', { htmlFor: 'settings-saveaudio' }, 'Save audio in history (replay and download)'),
    ),
    h(
      'div',
      { className: 'field narrow' },
      h('label', { htmlFor: 'settings-daily' }, 'Daily character budget'),
      dailyLimit,
      h(
        'p',
        { className: 'hint' },
        'Speech past it is refused until midnight UTC. Empty: the server’s default.',
      ),
    ),
    h('div', { className: 'row' }, h('button', { type: 'submit', className: 'primary' }, 'Save settings')),
    status,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    status.textContent = 'Saving…';
    ctx
      .saveSettings({
        defaultVoice: voice.value || null,
        defaultModel: model.value || null,
        voiceSettings: sliders.value(),
        autoPlay: autoPlay.checked,
        saveAudio: saveAudio.checked,
        dailyCharLimit: dailyLimit.value === '' ? null : Number(dailyLimit.value),
      })
      .then(
        () => (status.textContent = 'Saved. Every open console and your agent use these now.'),
        (error: Error) => (status.textContent = `Could not save: ${error.message}`),
      );
  });

  let loaded = false;
  ctx.onSettings((settings) => {
    if (!loaded) return;
    fill(settings);
  });

  async function load(): Promise<void> {
    try {
      const [voices, models] = await Promise.all([ctx.voices(), ctx.models()]);
      voiceList = voices;
      voiceOptions(voice, voices, ctx.settings?.defaultVoice ?? null);
      modelOptions(model, models, ctx.settings?.defaultModel ?? null);
      loaded = true;
      if (ctx.settings) fill(ctx.settings);
    } catch (error) {
      status.textContent = `Could not load: ${(error as Error).message}`;
    }
  }

  const element = h(
    'section',
    { 'aria-labelledby': 'settings-title' },
    h('h2', { id: 'settings-title' }, 'Settings'),
    h(
      'p',
      { className: 'hint' },
      'Used whenever your agent or this console does not ask for something else.',
    ),
    form,
  );
  return { id: 'settings', title: 'Settings', element, show: () => void load() };
}
