import { afterAll, describe, expect, it } from 'vitest';
import { FliteSynthesizer, FLITE_VOICES, splitIntoSentences } from './index.js';

describe('splitIntoSentences', () => {
  it('splits on sentence ends and keeps punctuation', () => {
    expect(splitIntoSentences('Hello there. All tests passed!  Ready?')).toEqual([
      'Hello there.',
      'All tests passed!',
      'Ready?',
    ]);
  });
  it('cuts run-on sentences at a comma or space before the limit', () => {
    const long = Array.from({ length: 30 }, (_, i) => `item ${i}`).join(', ');
    const pieces = splitIntoSentences(long, 60);
    expect(pieces.length).toBeGreaterThan(3);
    for (const piece of pieces) expect(piece.length).toBeLessThanOrEqual(60);
    expect(pieces.join(' ').replace(/\s+/g, ' ')).toBe(long);
  });
  it('returns nothing for blank text', () => {
    expect(splitIntoSentences('  \n ')).toEqual([]);
  });
});

describe('FliteSynthesizer', () => {
  const synth = new FliteSynthesizer();
  afterAll(() => synth.close());

  it('produces 16 kHz speech whose length grows with the text', async () => {
    const short = await synth.synthesize('Done.', { voice: 'slt' });
    const long = await synth.synthesize('The build finished and all two hundred tests passed.', {
      voice: 'slt',
    });
    expect(short.sampleRate).toBe(16_000);
    const seconds = (audio: { pcm: Buffer; sampleRate: number }) => audio.pcm.length / 2 / audio.sampleRate;
    expect(seconds(short)).toBeGreaterThan(0.2);
    expect(seconds(long)).toBeGreaterThan(2);
    expect(seconds(long)).toBeLessThan(8);
    // Real speech is not silence: the RMS of the samples is well above zero.
    const samples = new Int16Array(long.pcm.buffer, long.pcm.byteOffset, long.pcm.length / 2);
    const rms = Math.sqrt(samples.reduce((sum, s) => sum + s * s, 0) / samples.length);
    expect(rms).toBeGreaterThan(300);
  });

  it('speaks faster when asked', async () => {
    const text = 'Speed changes how long this sentence takes.';
    const normal = await synth.synthesize(text, { voice: 'rms' });
    const fast = await synth.synthesize(text, { voice: 'rms', speed: 1.5 });
    expect(fast.pcm.length).toBeLessThan(normal.pcm.length * 0.8);
  });

  it('streams a long text sentence by sentence, in order', async () => {
    const text = 'First sentence here. Second one follows. And a third to finish.';
    const pieces: string[] = [];
    for await (const piece of synth.synthesizeSentences(text, { voice: FLITE_VOICES[2]!.id })) {
      expect(piece.pcm.length).toBeGreaterThan(1000);
      pieces.push(piece.text);
    }
    expect(pieces).toEqual(['First sentence here.', 'Second one follows.', 'And a third to finish.']);
  });

  it("keeps working over hundreds of runs (Node 20's own WASI segfaulted after ~150)", async () => {
    const runs = await Promise.all(
      Array.from({ length: 220 }, (_, i) => synth.synthesize(`Run ${i}.`, { voice: i % 2 ? 'slt' : 'awb' })),
    );
    expect(runs.every((run) => run.pcm.length > 1000)).toBe(true);
  }, 60_000);

  it('rejects an unknown voice', async () => {
    await expect(synth.synthesize('Hi', { voice: 'nope' })).rejects.toThrow(/unknown Flite voice/);
  });
});
