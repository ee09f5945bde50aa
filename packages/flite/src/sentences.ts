/**
 * Splits text into pieces that can be synthesised one after another, so the first piece plays while the
 * rest is still being generated. Sentences longer than `maxLength` are cut at the last comma, semicolon or
 * space before the limit so a single run-on sentence does not delay the start.
 */
export function splitIntoSentences(text: string, maxLength = 240): string[] {
  const normalised = text.replace(/\s+/g, ' ').trim();
  if (normalised === '') return [];
  const sentences = normalised.match(/[^.!?…]+(?:[.!?…]+["')\]]*|$)\s*/g) ?? [normalised];
  const pieces: string[] = [];
  for (const sentence of sentences) {
    let rest = sentence.trim();
    while (rest.length > maxLength) {
      const window = rest.slice(0, maxLength);
      const cut = Math.max(window.lastIndexOf(', '), window.lastIndexOf('; '), window.lastIndexOf(' '));
      const at = cut > maxLength / 3 ? cut + 1 : maxLength;
      pieces.push(rest.slice(0, at).trim());
      rest = rest.slice(at).trim();
    }
    if (rest !== '') pieces.push(rest);
  }
  return pieces;
}
