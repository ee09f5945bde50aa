import { OggOpusEncoder } from '@earshot/flite';
import { OGG_OPUS, PCM, type ServerMessage } from '@earshot/protocol';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { OGG_OPUS_FORMAT } from '../audio/formats.js';
import { AudioFanout, setPlayerAccept } from './audio-fanout.js';
import type { PlayerConnection } from './types.js';
import { UserChannel } from './user-channel.js';

class Player implements PlayerConnection {
  readonly bufferedBytes = 0;
  readonly chunks: Uint8Array[] = [];
  readonly messages: ServerMessage[] = [];
  /** How many audio chunks had arrived at each flush. */
  readonly flushes: number[] = [];
  constructor(readonly id: string) {}
  sendJson(message: ServerMessage) {
    this.messages.push(message);
  }
  sendText(utf8: Uint8Array) {
    this.messages.push(JSON.parse(Buffer.from(utf8).toString('utf8')) as ServerMessage);
  }
  sendAudio(chunk: Uint8Array) {
    this.chunks.push(chunk);
  }
  flush() {
    this.flushes.push(this.chunks.length);
  }
  close() {}
}

/** One second of a 220 Hz tone at 16 kHz, as Ogg Opus pages (what the offline engine streams). */
function opusPages(): Uint8Array[] {
  const pcm = new Int16Array(16_000);
  for (let i = 0; i < pcm.length; i++) pcm[i] = Math.round(6000 * Math.sin((2 * Math.PI * 220 * i) / 16_000));
  const encoder = new OggOpusEncoder({ sampleRate: 16_000, bitrate: 24_000 });
  const bytes = new Uint8Array(pcm.buffer);
  const pages: Uint8Array[] = [];
  for (let offset = 0; offset < bytes.length; offset += 8000)
    pages.push(...encoder.push(bytes.subarray(offset, offset + 8000)));
  return [...pages, ...encoder.end()];
}

function channelWith(players: { player: Player; accept?: string[] }[]): UserChannel {
  const channel = new UserChannel();
  for (const { player, accept } of players) {
    channel.players.add(player);
    if (accept) setPlayerAccept(player, accept);
  }
  return channel;
}

const log = pino({ level: 'silent' });

/** The `speech.start` a speech's players get (before its format is added). */
function startOf(id: string, text = 't') {
  return { type: 'speech.start', id, text, voice: { id: 'v', name: 'V' }, source: 'api' } as const;
}

describe('AudioFanout', () => {
  it('writes the first audio of a speech out at once to every player, whatever its format; later chunks wait for their turn', () => {
    const [a, b] = ['a', 'b'].map((id) => new Player(id)) as [Player, Player];
    const channel = channelWith([{ player: a }, { player: b, accept: [PCM] }]);
    const fanout = new AudioFanout(channel, 'sp_1', OGG_OPUS_FORMAT(16_000), 1 << 20, log);
    for (const page of opusPages()) fanout.audio(page);
    fanout.end('sp_1', 1000);
    expect(a.flushes).toEqual([1]);
    // The PCM player's first chunks come once the decoder has its headers: flushed with the source's first page.
    expect(b.flushes).toHaveLength(1);
  });

  it('sends the source bytes untouched to players that take them, and transcodes once for all that need PCM', () => {
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((id) => new Player(id)) as [Player, Player, Player, Player];
    const channel = channelWith([
      { player: a },
      { player: b, accept: [OGG_OPUS, PCM] },
      { player: c, accept: [PCM] },
      { player: d, accept: ['audio/pcm'] },
    ]);
    const fanout = new AudioFanout(channel, 'sp_1', OGG_OPUS_FORMAT(16_000), 1 << 20, log);
    expect(fanout.playersReached).toBe(4);
    fanout.start(startOf('sp_1'));
    const pages = opusPages();
    for (const page of pages) fanout.audio(page);
    fanout.end('sp_1', 1000);

    const format = (player: Player) =>
      (player.messages.find((m) => m.type === 'speech.start') as { audio: unknown }).audio;
    expect(format(a)).toEqual(OGG_OPUS_FORMAT(16_000));
    expect(format(b)).toEqual(OGG_OPUS_FORMAT(16_000));
    expect(format(c)).toEqual({ mimeType: PCM, sampleRate: 24_000, channels: 1 });
    expect(format(d)).toEqual(format(c));
    // The very objects the engine gave: nothing copied or re-encoded for Opus players.
    expect(a.chunks).toEqual(pages);
    for (let i = 0; i < pages.length; i++) expect(a.chunks[i]).toBe(pages[i]);
    // One decoder for both PCM players: they receive the same buffers, not equal copies.
    expect(c.chunks.length).toBeGreaterThan(3);
    expect(c.chunks.length).toBe(d.chunks.length);
    for (let i = 0; i < c.chunks.length; i++) expect(d.chunks[i]).toBe(c.chunks[i]);
    const pcmBytes = c.chunks.reduce((sum, chunk) => sum + chunk.byteLength, 0);
    expect(pcmBytes).toBe(24_000 * 2);
    const end = (player: Player) => player.messages.find((m) => m.type === 'speech.end');
    expect(end(c)).toEqual({ type: 'speech.end', id: 'sp_1', durationMs: 1000, bytes: pcmBytes });
    expect(end(a)).toMatchObject({ bytes: pages.reduce((sum, page) => sum + page.byteLength, 0) });
  });

  it('ends only the PCM stream when the source cannot be decoded; Opus players keep getting the bytes', () => {
    const opus = new Player('opus');
    const pcm = new Player('pcm');
    const channel = channelWith([{ player: opus }, { player: pcm, accept: [PCM] }]);
    const fanout = new AudioFanout(channel, 'sp_2', OGG_OPUS_FORMAT(48_000), 1 << 20, log);
    fanout.start(startOf('sp_2'));
    const garbage = new TextEncoder().encode('this is not an Ogg page at all, just text');
    fanout.audio(garbage);
    fanout.audio(garbage);
    fanout.end('sp_2', 0);
    expect(opus.chunks).toEqual([garbage, garbage]);
    expect(pcm.chunks).toEqual([]);
    expect(pcm.messages.filter((m) => m.type === 'speech.error')).toEqual([
      expect.objectContaining({ id: 'sp_2', code: 'audio_format' }),
    ]);
    expect(pcm.messages.some((m) => m.type === 'speech.end')).toBe(false);
  });

  it('encodes PCM to Opus for players that take only Opus, and leaves PCM to those that list it', () => {
    const opus = new Player('opus');
    const pcm = new Player('pcm');
    const channel = channelWith([{ player: opus }, { player: pcm, accept: [PCM, OGG_OPUS] }]);
    const source = { mimeType: PCM, sampleRate: 24_000, channels: 1 } as const;
    const fanout = new AudioFanout(channel, 'sp_3', source, 1 << 20, log);
    fanout.start(startOf('sp_3'));
    const chunk = new Uint8Array(24_000); // 0.5 s of silence
    fanout.audio(chunk);
    fanout.end('sp_3', 500);
    expect(pcm.chunks).toEqual([chunk]);
    const encoded = Buffer.concat(opus.chunks);
    expect(encoded.subarray(0, 4).toString('ascii')).toBe('OggS');
    expect(opus.messages.find((m) => m.type === 'speech.start')).toMatchObject({
      audio: { mimeType: OGG_OPUS, sampleRate: 24_000 },
    });
  });

  it('fits the answer it was grouped for only while the format, the players and their accept stay the same', () => {
    const [a, b, c] = ['a', 'b', 'c'].map((id) => new Player(id)) as [Player, Player, Player];
    const source = OGG_OPUS_FORMAT(48_000);
    const channel = channelWith([{ player: a }, { player: b, accept: [PCM] }]);
    const grouped = () => new AudioFanout(channel, 'sp_4', source, 1 << 20, log);
    expect(grouped().fits(OGG_OPUS_FORMAT(48_000))).toBe(true);
    expect(grouped().fits(OGG_OPUS_FORMAT(16_000))).toBe(false);
    expect(grouped().fits({ ...source, channels: 2 })).toBe(false);
    expect(grouped().fits({ mimeType: PCM, sampleRate: 48_000, channels: 1 })).toBe(false);

    let fanout = grouped();
    channel.players.add(c);
    expect(fanout.fits(source)).toBe(false);
    fanout = grouped();
    channel.players.delete(c);
    expect(fanout.fits(source)).toBe(false);
    // As many players as before, but not the same ones.
    fanout = grouped();
    channel.players.delete(a);
    channel.players.add(c);
    expect(fanout.fits(source)).toBe(false);
    fanout = grouped();
    setPlayerAccept(b, [OGG_OPUS]);
    expect(fanout.fits(source)).toBe(false);
    expect(grouped().fits(source)).toBe(true);
  });

  it('sends speech.start, as prepared for each group, with the first audio: one write, not one before it', () => {
    const opus = new Player('opus');
    const pcm = new Player('pcm');
    const channel = channelWith([{ player: opus }, { player: pcm, accept: [PCM] }]);
    const fanout = new AudioFanout(channel, 'sp_5', OGG_OPUS_FORMAT(16_000), 1 << 20, log);
    const start = startOf('sp_5', 'é');
    fanout.prepareStart(start);
    fanout.start(start);
    expect(opus.messages).toEqual([]);
    const [first, ...rest] = opusPages();
    fanout.audio(first!);
    // Out before the first audio's flush, so both leave in the same write.
    expect(opus.messages).toEqual([{ ...start, audio: OGG_OPUS_FORMAT(16_000) }]);
    expect(opus.flushes).toEqual([1]);
    expect(pcm.messages).toEqual([{ ...start, audio: { mimeType: PCM, sampleRate: 24_000, channels: 1 } }]);
    for (const page of rest) fanout.audio(page);
    fanout.end('sp_5', 1000);
    expect(opus.messages.map((m) => m.type)).toEqual(['speech.start', 'speech.end']);
  });

  it('sends speech.start before the end or error of a speech that had no audio', () => {
    for (const finish of ['end', 'stopped'] as const) {
      const player = new Player('p');
      const fanout = new AudioFanout(
        channelWith([{ player }]),
        'sp_6',
        OGG_OPUS_FORMAT(16_000),
        1 << 20,
        log,
      );
      fanout.start(startOf('sp_6'));
      if (finish === 'end') fanout.end('sp_6', 0);
      else fanout.broadcast({ type: 'speech.stopped', id: 'sp_6' });
      expect(player.messages.map((m) => m.type)).toEqual(['speech.start', `speech.${finish}`]);
    }
  });

  it('sends the speech.start it is given, not one prepared for another message', () => {
    const player = new Player('p');
    const fanout = new AudioFanout(channelWith([{ player }]), 'sp_7', OGG_OPUS_FORMAT(16_000), 1 << 20, log);
    const start = startOf('sp_7', 'a');
    fanout.prepareStart(start);
    fanout.start({ ...start, text: 'b' });
    fanout.end('sp_7', 0);
    expect(player.messages[0]).toMatchObject({ type: 'speech.start', text: 'b' });
  });
});
