import type { Readable } from 'node:stream';

/**
 * Reads `stream` as JSON, failing as soon as more than `maxBytes` arrived (never buffers more). `what` names the
 * document in the errors ("the client metadata document is larger than 5120 bytes").
 */
export function readBoundedJson(stream: Readable, maxBytes: number, what = 'the answer'): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    let done = false;
    const fail = (message: string) => {
      if (done) return;
      done = true;
      stream.destroy();
      reject(new Error(message));
    };
    stream.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > maxBytes) return fail(`${what} is larger than ${maxBytes} bytes`);
      chunks.push(chunk);
    });
    stream.on('end', () => {
      if (done) return;
      done = true;
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch {
        reject(new Error(`${what} is not JSON`));
      }
    });
    stream.on('error', () => fail(`${what} could not be read`));
    // Closed before its end without an error (a connection destroyed): it settles all the same.
    stream.on('close', () => fail(`${what} could not be read`));
  });
}
