import type { Voice } from '@earshot/protocol';
import type { LibraryVoice } from '@earshot/protocol';
import { h, replace, statusLine } from '../dom.js';
import type { ConsoleContext, View } from '../context.js';
import { playBlob, playUrl } from '../replay.js';

const FILTERS = [
  ['language', 'Language'],
  ['accent', 'Accent'],
  ['gender', 'Gender'],
  ['use_case', 'Use'],
] as const;

type Source = 'mine' | 'library';

/** A library voice in the shape of the user's own voices, so one card and one filter set serve both. */
function fromLibrary(voice: LibraryVoice): Voice & { clonedByCount: number } {
  const labels: Record<string, string> = {
    gender: voice.gender,
    age: voice.age,
    accent: voice.accent,
    use_case: voice.useCase,
  };
  if (voice.language) labels.language = voice.language;
  return {
    id: voice.id,
    name: voice.name,
    category: voice.category,
    description: voice.description,
    labels,
    previewUrl: voice.previewUrl,
    clonedByCount: voice.clonedByCount,
  };
}

/** Browse and search your voices and the shared library, filter by their labels, preview, pick the default. */
export function voicesView(ctx: ConsoleContext): View {
  let source: Source = 'mine';
  const tabs = {
    mine: h('button', { type: 'button', 'aria-pressed': 'true' }, 'My voices'),
    library: h('button', { type: 'button', 'aria-pressed': 'false' }, 'Shared library'),
  };
  const search = h('input', { type: 'search', id: 'voice-search', placeholder: 'Name, accent, style…' });
  const selects = FILTERS.map(([key, label]) => ({
    key,
    select: h('select', { id: `voice-filter-${key}`, 'aria-label': label }),
    label,
  }));
  const list = h('ul', { className: 'cards', id: 'voice-list', 'aria-label': 'Voices' });
  const count = h('p', { className: 'meta', id: 'voice-count' });
  const status = statusLine();
  const more = h('button', { type: 'button', hidden: true }, 'More voices');
  const libraryOffline = h(
    'p',
    { className: 'hint', id: 'library-offline', hidden: true },
    'The shared voice library is ElevenLabs’: it needs an ElevenLabs key (ELEVENLABS_API_KEY on the server). ' +
      'The offline voices are under My voices.',
  );
  let voices: (Voice & { clonedByCount?: number })[] = [];
  let page = 0;

  function fillFilters(): void {
    for (const { key, select, label } of selects) {
      const current = select.value;
      const values = [
        ...new Set(voices.map((voice) => voice.labels[key]).filter((v): v is string => !!v)),
      ].sort();
      if (current && !values.includes(current)) values.unshift(current);
      select.replaceChildren(
        h('option', { value: '' }, `Any ${label.toLowerCase()}`),
        ...values.map((value) => h('option', { value, selected: value === current }, value)),
      );
      select.disabled = values.length === 0;
    }
  }

  function card(voice: Voice & { clonedByCount?: number }): HTMLElement {
    const isDefault = ctx.settings?.defaultVoice === voice.id;
    const preview = h('button', { type: 'button', 'aria-label': `Preview ${voice.name}` }, 'Preview');
    preview.addEventListener('click', () => void previewVoice(voice));
    const actions = h('div', { className: 'row' }, preview);
    {
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
      actions.append(makeDefault);
    }
    const labels = Object.entries(voice.labels).map(([key, value]) => h('li', { title: key }, value));
    return h(
      'li',
      { className: `card voice${isDefault ? ' is-default' : ''}` },
      h('h3', {}, voice.name),
      h(
        'p',
        { className: 'meta' },
        [voice.category, voice.clonedByCount === undefined ? '' : `used by ${voice.clonedByCount}`]
          .filter(Boolean)
          .join(' · '),
      ),
      voice.description ? h('p', {}, voice.description) : null,
      labels.length ? h('ul', { className: 'tags', 'aria-label': 'Labels' }, labels) : null,
      actions,
    );
  }

  async function previewVoice(voice: Voice): Promise<void> {
    status.textContent = `Previewing ${voice.name}…`;
    if (voice.previewUrl) {
      try {
        // The provider's hosted sample, when the page's security policy lets it load.
        if (source === 'library') await playUrl(voice.previewUrl);
        else await playBlob(await (await fetch(voice.previewUrl)).blob());
        status.textContent = `Playing the ${voice.name} sample.`;
        return;
      } catch {
        // Not loadable under this page's security policy: speak a line with the voice instead.
      }
    }
    try {
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
    count.textContent = `${shown.length} of ${voices.length} voices${source === 'library' ? ' in the shared library' : ''}.`;
  }

  let failed = false;
  async function load(append = false): Promise<void> {
    const term = search.value.trim();
    // Offline there is no library to ask for: say so instead of showing a failed request and "0 of 0".
    const noLibrary = source === 'library' && ctx.engine === 'offline';
    libraryOffline.hidden = !noLibrary;
    count.hidden = noLibrary;
    if (noLibrary) {
      voices = [];
      more.hidden = true;
      fillFilters();
      replace(list);
      status.textContent = '';
      failed = false;
      return;
    }
    try {
      if (source === 'mine') {
        voices = term ? await ctx.api.voices(term) : await ctx.voices();
        more.hidden = true;
      } else {
        page = append ? page + 1 : 0;
        const filter = (key: string) => selects.find((s) => s.key === key)?.select.value || undefined;
        const result = await ctx.api.library({
          search: term || undefined,
          gender: filter('gender'),
          accent: filter('accent'),
          language: filter('language'),
          use_case: filter('use_case'),
          page,
        });
        const found = result.voices.map(fromLibrary);
        voices = append ? [...voices, ...found] : found;
        more.hidden = !result.hasMore;
      }
      fillFilters();
      status.textContent = '';
      failed = false;
      render();
    } catch (error) {
      failed = true;
      voices = [];
      render();
      status.textContent = `Could not load voices: ${(error as Error).message}`;
    }
  }

  function choose(next: Source): void {
    source = next;
    tabs.mine.setAttribute('aria-pressed', String(next === 'mine'));
    tabs.library.setAttribute('aria-pressed', String(next === 'library'));
    for (const { select } of selects) select.value = '';
    void load();
  }
  tabs.mine.addEventListener('click', () => choose('mine'));
  tabs.library.addEventListener('click', () => choose('library'));
  more.addEventListener('click', () => void load(true));

  let debounce: ReturnType<typeof setTimeout> | undefined;
  search.addEventListener('input', () => {
    clearTimeout(debounce);
    debounce = setTimeout(() => void load(), 250);
  });
  // Library filters ask the server (it has far more voices than one page); own voices filter here.
  for (const { select } of selects)
    select.addEventListener('change', () => (source === 'library' ? void load() : render()));
  ctx.onSettings(() => voices.length && render());

  const element = h(
    'section',
    { 'aria-labelledby': 'voices-title' },
    h('h2', { id: 'voices-title' }, 'Voices'),
    h(
      'div',
      { className: 'row segmented', role: 'group', 'aria-label': 'Which voices' },
      tabs.mine,
      tabs.library,
    ),
    h(
      'div',
      { className: 'filters' },
      h('div', { className: 'field' }, h('label', { htmlFor: 'voice-search' }, 'Search voices'), search),
      ...selects.map(({ select }) => select),
    ),
    count,
    libraryOffline,
    status,
    list,
    h('div', { className: 'row' }, more),
  );
  return {
    id: 'voices',
    title: 'Voices',
    element,
    show: () => void load(),
    recover: () => failed && void load(),
  };
}
