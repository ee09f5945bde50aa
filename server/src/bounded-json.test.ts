import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { readBoundedJson } from './bounded-json.js';

describe('readBoundedJson', () => {
  it('names the document in its errors', async () => {
    await expect(
      readBoundedJson(Readable.from([Buffer.from('[1,')]), 100, 'the /healthz answer'),
    ).rejects.toThrow('the /healthz answer is not JSON');
  });

  it('settles when the stream closes before its end without an error (a destroyed connection)', async () => {
    const stream = new Readable({ read() {} });
    stream.push(Buffer.from('{"status":'));
    const read = readBoundedJson(stream, 100, 'the answer');
    stream.destroy();
    await expect(read).rejects.toThrow('the answer could not be read');
  });
});
