/**
 * A deliberately tiny template language for the proxy's config and scripts, so the files in `infra/proxy/` stay
 * readable (and shellcheck-able) as what they are:
 * - `{{NAME}}` is replaced by a value; a name without a value is an error, never silently empty. A placeholder
 *   alone on an indented line indents every line of its value.
 * - A line `#@if NAME` / `#@else` / `#@endif` (optionally indented) keeps or drops the lines between by a flag.
 */
export type TemplateValues = Readonly<Record<string, string>>;
export type TemplateFlags = Readonly<Record<string, boolean>>;

const directive = /^\s*#@(if|else|endif)\b\s*(\S*)\s*$/;
const placeholder = /\{\{([A-Z0-9_]+)\}\}/g;

export function renderTemplate(source: string, values: TemplateValues, flags: TemplateFlags = {}): string {
  const kept: string[] = [];
  // One frame per open #@if: whether its current branch is kept.
  const stack: { keeps: boolean; readonly flag: string }[] = [];
  const keeping = (): boolean => stack.every((frame) => frame.keeps);
  source.split('\n').forEach((line, index) => {
    const match = directive.exec(line);
    if (!match) {
      if (keeping()) kept.push(line);
      return;
    }
    const [, kind, flag = ''] = match;
    if (kind === 'if') {
      const value = flags[flag];
      if (value === undefined) throw new Error(`template line ${index + 1}: unknown flag "${flag}"`);
      stack.push({ keeps: value, flag });
    } else if (kind === 'else') {
      const top = stack.at(-1);
      if (!top) throw new Error(`template line ${index + 1}: #@else without #@if`);
      top.keeps = !top.keeps;
    } else {
      if (!stack.pop()) throw new Error(`template line ${index + 1}: #@endif without #@if`);
    }
  });
  if (stack.length > 0) throw new Error(`template: #@if ${stack.at(-1)?.flag ?? ''} is never closed`);

  const valueOf = (name: string): string => {
    const value = values[name];
    if (value === undefined) throw new Error(`template: no value for {{${name}}}`);
    return value;
  };
  return kept
    .map((line) => {
      // A placeholder alone on an indented line indents every line of a multi-line value.
      const alone = /^([ \t]+)\{\{([A-Z0-9_]+)\}\}$/.exec(line);
      if (alone) {
        const [, indent = '', name = ''] = alone;
        return valueOf(name)
          .split('\n')
          .map((valueLine) => (valueLine === '' ? '' : `${indent}${valueLine}`))
          .join('\n');
      }
      return line.replace(placeholder, (_whole, name: string) => valueOf(name));
    })
    .join('\n');
}
