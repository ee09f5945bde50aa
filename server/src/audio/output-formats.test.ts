import { startStandin } from '@earshot/elevenlabs-standin';
import { describe, expect, it } from 'vitest';
import { ElevenLabsEngine } from '../engines/elevenlabs.js';
import { checkOutputFormat, OUTPUT_FORMAT_IDS, outputFormat, packageAudio } from './output-formats.js';

describe('output formats', () => {
  it('maps every ElevenLabs format to a file: MP3 as is, PCM and G.711 in WAV, Opus in Ogg', () => {
    const kinds = Object.fromEntries(OUTPUT_FORMAT_IDS.map((id) => [id, outputFormat(id).extension]));
    expect(kinds).toMatchObject({
      mp3_22050_32: 'mp3',
      pcm_44100: 'wav',
      alaw_8000: 'wav',
      opus_48000_192: 'ogg',
    });
    const wav = packageAudio(outputFormat('alaw_8000'), Buffer.alloc(80));
    expect([wav.toString('latin1', 0, 4), wav.readUInt16LE(20), wav.readUInt32LE(42), wav.length]).toEqual([
      'RIFF',
      6,
      80,
      126,
    ]);
    const pcm = packageAudio(outputFormat('pcm_44100'), Buffer.alloc(100));
    expect([pcm.readUInt32LE(24), pcm.readUInt32LE(28), pcm.readUInt16LE(34)]).toEqual([44100, 88200, 16]);
  });

  it('refuses on the offline engine what it cannot encode, naming what it can', () => {
    let refused: unknown;
    try {
      checkOutputFormat('offline', 'mp3_44100_128');
    } catch (error) {
      refused = error;
    }
    expect(refused).toMatchObject({
      code: 'format_unsupported',
      message: expect.stringContaining('pcm_16000'),
    });
    expect(() => checkOutputFormat('offline', 'pcm_22050')).toThrow(/cannot make pcm_22050/);
    expect(checkOutputFormat('offline', 'pcm_24000').sampleRate).toBe(24000);
    expect(checkOutputFormat('elevenlabs', 'ulaw_8000').codec).toBe('ulaw');
  });

  it('stops reading an ElevenLabs clip past the cap instead of buffering it', async () => {
    const standin = await startStandin({ apiKeys: ['k'] });
    const engine = new ElevenLabsEngine({ apiKey: 'k', baseUrl: standin.url, maxRetries: 0 });
    try {
      const request = {
        text: 'A sentence long enough to pass a thousand bytes of audio.',
        voiceId: '21m00Tcm4TlvDq8ikWAM',
      };
      const signal = new AbortController().signal;
      const whole = await engine.render(request, outputFormat('pcm_16000'), 10_000_000, signal);
      expect(whole.audio.length).toBeGreaterThan(1000);
      expect(whole.credits).toBeGreaterThan(0);
      await expect(engine.render(request, outputFormat('pcm_16000'), 1000, signal)).rejects.toMatchObject({
        code: 'audio_too_long',
      });
    } finally {
      await engine.close();
      await standin.close();
    }
  });
});
