import { describe, expect, it } from 'vitest';
import { MESSAGE_MAX_CHARS, withLeadMessage } from './results.js';

describe('withLeadMessage', () => {
  it("puts the text's first line first in structuredContent as message", () => {
    const result = withLeadMessage({
      content: [{ type: 'text', text: 'Nobody heard it: open the player.\nMore detail.' }],
      structuredContent: { playersListening: 0 },
    });
    expect(result.structuredContent).toEqual({
      message: 'Nobody heard it: open the player.',
      playersListening: 0,
    });
    expect(Object.keys(result.structuredContent ?? {})[0]).toBe('message');
  });

  it('cuts a first line that is mostly data (a transcript) to MESSAGE_MAX_CHARS', () => {
    const result = withLeadMessage({
      content: [{ type: 'text', text: `Transcript (en): ${'word '.repeat(400)}` }],
      structuredContent: { text: 'word' },
    });
    const message = (result.structuredContent as { message: string }).message;
    expect(message).toHaveLength(MESSAGE_MAX_CHARS);
    expect(message.endsWith('…')).toBe(true);
  });

  it('leaves errors and results without structuredContent as they are', () => {
    const error = { content: [{ type: 'text' as const, text: 'No. [invalid_input]' }], isError: true };
    expect(withLeadMessage(error)).toBe(error);
    const plain = { content: [{ type: 'text' as const, text: 'Done.' }] };
    expect(withLeadMessage(plain)).toBe(plain);
  });
});
