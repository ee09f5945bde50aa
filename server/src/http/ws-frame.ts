/**
 * Server-to-client WebSocket frames (RFC 6455 §5.2: unmasked, final, no extension bits), built once per message
 * and written as they are to every player that gets it. ws frames each send again for every socket, in two
 * writes (header, payload); a user's players all get the same bytes, so one frame serves them all.
 */

export const TEXT_OPCODE = 0x1;
export const BINARY_OPCODE = 0x2;
export type Opcode = typeof TEXT_OPCODE | typeof BINARY_OPCODE;

/** The whole frame (header and payload in one buffer: one write per socket). */
export function encodeFrame(payload: Uint8Array, opcode: Opcode): Buffer {
  const length = payload.byteLength;
  const headerBytes = length < 126 ? 2 : length < 65_536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(headerBytes + length);
  frame[0] = 0x80 | opcode; // FIN: the whole message in one frame
  if (length < 126) {
    frame[1] = length;
  } else if (length < 65_536) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    frame.writeBigUInt64BE(BigInt(length), 2);
  }
  frame.set(payload, headerBytes);
  return frame;
}

/**
 * The frame of a payload that is sent to several players: built for the first, the same buffer for the others.
 * Keyed by the payload object, which a broadcast hands unchanged to every player; gone with it.
 */
export class FrameCache {
  private readonly text = new WeakMap<Uint8Array, Buffer>();
  private readonly binary = new WeakMap<Uint8Array, Buffer>();

  frame(payload: Uint8Array, opcode: Opcode): Buffer {
    const cache = opcode === TEXT_OPCODE ? this.text : this.binary;
    let frame = cache.get(payload);
    if (!frame) {
      frame = encodeFrame(payload, opcode);
      cache.set(payload, frame);
    }
    return frame;
  }
}
