import * as ws from 'ws';
import { describe, expect, it } from 'vitest';
import { BINARY_OPCODE, encodeFrame, FrameCache, TEXT_OPCODE } from './ws-frame.js';

/** What ws itself sends for the same payload (header and payload joined). */
function wsFrame(payload: Buffer, opcode: number): Buffer {
  // ws exports its Sender (wrapper.mjs) but its types do not declare it.
  const { Sender } = ws as unknown as {
    Sender: { frame(data: Buffer, options: Record<string, unknown>): Buffer[] };
  };
  const frame = Sender.frame(payload, { fin: true, opcode, mask: false, readOnly: true, rsv1: false });
  return Buffer.concat(frame);
}

describe('encodeFrame', () => {
  it('builds the bytes ws builds, for every length encoding (7-bit, 16-bit, 64-bit)', () => {
    for (const length of [0, 1, 125, 126, 127, 65_535, 65_536, 70_000]) {
      const payload = Buffer.alloc(length, length % 251);
      expect(encodeFrame(payload, BINARY_OPCODE).equals(wsFrame(payload, BINARY_OPCODE))).toBe(true);
      expect(encodeFrame(payload, TEXT_OPCODE).equals(wsFrame(payload, TEXT_OPCODE))).toBe(true);
    }
  });
});

describe('FrameCache', () => {
  it('builds a payload’s frame once and tells text from binary', () => {
    const frames = new FrameCache();
    const payload = Buffer.from('{"type":"speech.end"}');
    const text = frames.frame(payload, TEXT_OPCODE);
    expect(frames.frame(payload, TEXT_OPCODE)).toBe(text);
    expect(frames.frame(payload, BINARY_OPCODE)[0]).toBe(0x82);
    expect(text[0]).toBe(0x81);
    expect(frames.frame(Buffer.from(payload), TEXT_OPCODE)).not.toBe(text);
  });
});
