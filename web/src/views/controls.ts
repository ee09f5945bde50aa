import type { Model, Voice, VoiceSettings } from '@earshot/protocol';
import { h } from '../dom.js';

interface Slider {
  readonly key: 'stability' | 'similarity_boost' | 'style' | 'speed';
  readonly label: string;
  readonly min: number;
  readonly max: number;
  readonly step: number;
  readonly fallback: number;
}

const SLIDERS: readonly Slider[] = [
  { key: 'stability', label: 'Stability', min: 0, max: 1, step: 0.05, fallback: 0.5 },
  { key: 'similarity_boost', label: 'Similarity', min: 0, max: 1, step: 0.05, fallback: 0.75 },
  { key: 'style', label: 'Style', min: 0, max: 1, step: 0.05, fallback: 0 },
  { key: 'speed', label: 'Speed', min: 0.7, max: 1.2, step: 0.05, fallback: 1 },
];

let uid = 0;

/** Stability, similarity, style and speed sliders (ElevenLabs' ranges) with their values shown. */
export function voiceSettingsControls(prefix: string): {
  element: HTMLElement;
  value(): VoiceSettings;
  set(settings: VoiceSettings): void;
} {
  const inputs = new Map<Slider['key'], HTMLInputElement>();
  const element = h('fieldset', { className: 'sliders' }, h('legend', {}, 'Voice settings'));
  for (const slider of SLIDERS) {
    const id = `${prefix}-${slider.key}-${++uid}`;
    const output = h('output', { htmlFor: id }, String(slider.fallback));
    const input = h('input', {
      type: 'range',
      id,
      min: slider.min,
      max: slider.max,
      step: slider.step,
      value: slider.fallback,
    });
    input.addEventListener('input', () => (output.textContent = input.value));
    inputs.set(slider.key, input);
    element.append(
      h('div', { className: 'slider' }, h('label', { htmlFor: id }, slider.label), input, output),
    );
  }
  return {
    element,
    value: () => Object.fromEntries([...inputs].map(([key, input]) => [key, Number(input.value)])),
    set(settings) {
      for (const slider of SLIDERS) {
        const input = inputs.get(slider.key)!;
        input.value = String(settings[slider.key] ?? slider.fallback);
        input.dispatchEvent(new Event('input'));
      }
    },
  };
}

export function voiceOptions(
  select: HTMLSelectElement,
  voices: readonly Voice[],
  selected: string | null,
): void {
  // A default picked from the shared library is not among the account's voices: keep it selectable, so
  // saving other settings never clears it.
  const extra = selected && !voices.some((voice) => voice.id === selected) ? [selected] : [];
  select.replaceChildren(
    h('option', { value: '' }, 'Default voice'),
    ...voices.map((voice) => h('option', { value: voice.id, selected: voice.id === selected }, voice.name)),
    ...extra.map((id) => h('option', { value: id, selected: true }, `Library voice ${id}`)),
  );
}

/**
 * The model choices; the empty one says which model it stands for: `savedDefault` (the user's settings, where a
 * speech with no model goes to them) or else the engine's default.
 */
export function modelOptions(
  select: HTMLSelectElement,
  models: readonly Model[],
  selected: string | null,
  savedDefault: string | null = null,
): void {
  const standsFor =
    models.find((model) => model.id === savedDefault) ?? models.find((model) => model.isDefault);
  select.replaceChildren(
    h('option', { value: '' }, standsFor ? `Default (${standsFor.name})` : 'Default model'),
    ...models.map((model) =>
      h(
        'option',
        { value: model.id, selected: model.id === selected },
        `${model.name}${model.creditsPerCharacter ? ` · ${model.creditsPerCharacter} credit/char` : ' · free'}`,
      ),
    ),
  );
}
