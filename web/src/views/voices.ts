import type { Voice } from '@earshot/protocol';
import { h, replace, statusLine } from '../dom.js';
import type { ConsoleContext, View } from '../context.js';
import { playBlob } from '../replay.js';

const FILTERS = [
  ['language', 'Language'],
  ['accent', 'Accent'],
  ['gender', 'Gender'],
  ['use_case', 'Use'],
] as const;

/** Browse and search voices, filter by their labels, preview them and pick the default. */
export function voicesView(ctx: ConsoleContext): View {
  const search = h('input', { type: 'search', id: 'voice-search', placeholder: 'Name, accent, style…' });
  const selects = FILTERS.map(([key, label]) => ({
    key,
    select: h('select', { id: `voice-filter-${key}`, 'aria-label': label }),
    label,
  }));
  const list = h('ul', { className: 'cards', id: 'voice-list', 'aria-label': 'Voices' });
  const status = statusLine();
  const count = h('p', { className: 'meta', id: 'voice-count' });
  let voices: Voice[] = [];

  function fillFilters(): void {
    for (const { key, select, label } of selects) {
      const current = select.value;
      const values = [
        ...new Set(voices.map((voice) => voice.labels[key]).filter((v): v is string => !!v)),
      ].sort();
      select.replaceChildren(
        h('option', { value: '' }, `Any ${label.toLowerCase()}`),
        ...values.map((value) => h('option', { value, selected: value === current }, value)),
      );
      select.disabled = values.length === 0;
    }
  }

  function card(voice: Voice): HTMLElement {
    const isDefault = ctx.settings?.defaultVoice === voice.id;
    const preview = h('button', { type: 'button', 'aria-label': `Preview ${voice.name}` }, 'Preview');
    preview.addEventListener('click', () => void previewVoice(voice));
    const makeDefault = h(
      'button',
      {
        type: 'button',
        disabled: isDefault,
        'aria-label': isDefault ? `Default voice: ${voice.name}` : `Set as default: ${voice.name}`,
      },
      isDefault ? 'Default' : 'Set as default',
    );
    makeDefault.addEventListener('click', () => {
      ctx.saveSettings({ defaultVoice: voice.id }).then(
        () => {
          status.textContent = `${voice.name} is now your default voice.`;
          render();
        },
        (error: Error) => (status.textContent = `Could not save: ${error.message}`),
      );
    });
    const labels = Object.entries(voice.labels).map(([key, value]) => h('li', { title: key }, value));
    return h(
      'li',
      { className: `card voice${isDefault ? ' is-default' : ''}` },
      h('h3', {}, voice.name),
      voice.category ? h('p', { className: 'meta' }, voice.category) : null,
      voice.description ? h('p', {}, voice.description) : null,
      labels.length ? h('ul', { className: 'tags', 'aria-label': 'Labels' }, labels) : null,
      h('div', { className: 'row' }, preview, makeDefault),
    );
  }

  async function previewVoice(voice: Voice): Promise<void> {
    status.textContent = `Previewing ${voice.name}…`;
    try {
      if (voice.previewUrl) {
        // The sample hosted by the voice provider; fall back to speaking if the page may not load it.
        try {
          await playBlob(await (await fetch(voice.previewUrl)).blob());
          return;
        } catch {
          /* fall through to a short speech */
        }
      }
      await ctx.api.speak({ text: `Hello, I am ${voice.name}.`, voice: voice.id, source: 'console' });
      status.textContent = `Previewed ${voice.name} on your players.`;
    } catch (error) {
      status.textContent = `Could not preview: ${(error as Error).message}`;
    }
  }

  function render(): void {
    const shown = voices.filter((voice) =>
      selects.every(({ key, select }) => !select.value || voice.labels[key] === select.value),
    );
    replace(list, ...shown.map(card));
    count.textContent = `${shown.length} of ${voices.length} voices.`;
  }

  async function load(): Promise<void> {
    try {
      voices = search.value.trim() ? await ctx.api.voices(search.value.trim()) : await ctx.voices();
      fillFilters();
      status.textContent = '';
      render();
    } catch (error) {
      status.textContent = `Could not load voices: ${(error as Error).message}`;
    }
  }

  let debounce: ReturnType<typeof setTimeout> | undefined;
  search.addEventListener('input', () => {
    clearTimeout(debounce);
    debounce = setTimeout(() => void load(), 250);
  });
  for (const { select } of selects) select.addEventListener('change', render);
  ctx.onSettings(() => voices.length && render());

  const element = h(
    'section',
    { 'aria-labelledby': 'voices-title' },
    h('h2', { id: 'voices-title' }, 'Voices'),
    h(
      'div',
      { className: 'filters' },
      h('div', { className: 'field' }, h('label', { htmlFor: 'voice-search' }, 'Search voices'), search),
      ...selects.map(({ select }) => select),
    ),
    count,
    status,
    list,
  );
  return { id: 'voices', title: 'Voices', element, show: () => void load() };
}
