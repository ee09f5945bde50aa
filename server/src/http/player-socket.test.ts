import { Writable } from 'node:stream';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { batchWrites } from './player-socket.js';

/** A socket stand-in that counts the writes that reach it (one per system call on a real socket). */
class CountingSocket extends Writable {
  calls = 0;
  bytes = 0;
  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    this.calls++;
    this.bytes += chunk.length;
    done();
  }
  override _writev(chunks: { chunk: Buffer }[], done: () => void): void {
    this.calls++;
    for (const { chunk } of chunks) this.bytes += chunk.length;
    done();
  }
}

describe('batchWrites', () => {
  it('sends the frames of one event-loop turn in one write, and those of the next turn in another', async () => {
    const socket = new CountingSocket();
    const batch = batchWrites(socket);
    for (const frame of ['captions', 'audio', 'end']) {
      batch.hold();
      socket.write(Buffer.from(frame));
    }
    // Nothing is held past the turn: the frames are out before any I/O callback runs.
    await nextTurn();
    expect(socket.calls).toBe(1);
    expect(socket.bytes).toBe('captionsaudioend'.length);
    batch.hold();
    socket.write(Buffer.from('next'));
    await nextTurn();
    expect(socket.calls).toBe(2);
    expect(socket.writableCorked).toBe(0);
  });

  it('writes what it holds at once on flush, and the rest of the turn in one more write', async () => {
    const socket = new CountingSocket();
    const batch = batchWrites(socket);
    batch.hold();
    socket.write(Buffer.from('captions'));
    batch.hold();
    socket.write(Buffer.from('first audio'));
    batch.flush();
    expect(socket.calls).toBe(1);
    batch.hold();
    socket.write(Buffer.from('progress'));
    batch.hold();
    socket.write(Buffer.from('more'));
    await nextTurn();
    expect(socket.calls).toBe(2);
    expect(socket.writableCorked).toBe(0);
  });
});
