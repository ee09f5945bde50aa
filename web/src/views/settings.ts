import type { ServerLimits, UserSettings, Voice } from '@earshot/protocol';
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
  const retention = h('input', {
    type: 'number',
    id: 'settings-retention',
    min: 1,
    step: 1,
    inputMode: 'numeric',
    placeholder: 'Server default',
  });
  const quota = h('input', {
    type: 'number',
    id: 'settings-quota',
    min: 1,
    step: 1,
    inputMode: 'numeric',
    placeholder: 'Server default',
  });
  const dailyHint = h('p', { className: 'hint', id: 'settings-daily-hint' });
  const retentionHint = h('p', { className: 'hint', id: 'settings-retention-hint' });
  const quotaHint = h('p', { className: 'hint', id: 'settings-quota-hint' });
  const status = statusLine();

  /** The server's maxima: the hint says them, the field refuses more. */
  function showLimits(limits: ServerLimits): void {
    const fields = [
      [
        dailyLimit,
        dailyHint,
        limits.dailyCharLimit,
        'characters',
        'Speech past it is refused until midnight UTC.',
      ],
      [
        retention,
        retentionHint,
        limits.audioRetentionDays,
        'days',
        'Spoken items and their audio are deleted after this.',
      ],
      [quota, quotaHint, limits.audioQuotaMb, 'MB', 'Past it, speech still plays but its audio is not kept.'],
    ] as const;
    for (const [input, hint, max, unit, what] of fields) {
      if (max !== null) input.max = String(max);
      hint.textContent = `${what} Empty: the server’s ${max === null ? 'default (none)' : `maximum, ${max} ${unit}`}; you can set less, not more.`;
    }
  }
  showLimits({ dailyCharLimit: null, audioRetentionDays: null, audioQuotaMb: null });

  const optionalNumber = (input: HTMLInputElement) => (input.value === '' ? null : Number(input.value));
  const showNumber = (value: number | null | undefined) =>
    value === null || value === undefined ? '' : String(value);

  let voiceList: Voice[] = [];
  function fill(settings: UserSettings): void {
    voiceOptions(voice, voiceList, settings.defaultVoice);
    voice.value = settings.defaultVoice ?? '';
    model.value = settings.defaultModel ?? '';
    sliders.set(settings.voiceSettings);
    autoPlay.checked = settings.autoPlay;
    saveAudio.checked = settings.saveAudio;
    dailyLimit.value = showNumber(settings.dailyCharLimit);
    retention.value = showNumber(settings.audioRetentionDays);
    quota.value = showNumber(settings.audioQuotaMb);
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
      dailyHint,
    ),
    h(
      'div',
      { className: 'field narrow' },
      h('label', { htmlFor: 'settings-retention' }, 'Keep spoken audio for (days)'),
      retention,
      retentionHint,
    ),
    h(
      'div',
      { className: 'field narrow' },
      h('label', { htmlFor: 'settings-quota' }, 'Audio storage limit (MB)'),
      quota,
      quotaHint,
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
        dailyCharLimit: optionalNumber(dailyLimit),
        audioRetentionDays: optionalNumber(retention),
        audioQuotaMb: optionalNumber(quota),
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

  let failed = false;
  async function load(): Promise<void> {
    try {
      const [voices, models, usage] = await Promise.all([
        ctx.voices(),
        ctx.models(),
        ctx.api.usage(1).catch(() => null),
      ]);
      if (usage?.serverLimits) showLimits(usage.serverLimits);
      voiceList = voices;
      voiceOptions(voice, voices, ctx.settings?.defaultVoice ?? null);
      modelOptions(model, models, ctx.settings?.defaultModel ?? null);
      loaded = true;
      if (ctx.settings) fill(ctx.settings);
      if (failed) status.textContent = '';
      failed = false;
    } catch (error) {
      failed = true;
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
  return {
    id: 'settings',
    title: 'Settings',
    element,
    show: () => void load(),
    recover: () => failed && void load(),
  };
}
