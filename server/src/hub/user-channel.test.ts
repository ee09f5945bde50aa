import type { ServerMessage } from '@earshot/protocol';
import { describe, expect, it } from 'vitest';
import type { PlayerConnection } from './types.js';
import { UserChannel } from './user-channel.js';

const HOUR_MS = 3_600_000;

function player(id: string): PlayerConnection {
  return {
    id,
    bufferedBytes: 0,
    sendJson: (_message: ServerMessage) => {},
    sendText: () => {},
    sendAudio: () => {},
    flush: () => {},
    close: () => {},
  };
}

/**
 * Whether a wait for `played` is still pending: a `played` report now resolves a pending wait with true, while
 * a wait that already ended stays false. No clock involved.
 */
async function endedBeforeReport(channel: UserChannel, wait: Promise<boolean>, id: string) {
  channel.markPlayed(id);
  return !(await wait);
}

describe('UserChannel: who listens, and waiting for "played"', () => {
  it('counts only connected players that said audio on; one that never said does not count', () => {
    const channel = new UserChannel();
    const [on, off, silent] = [player('on'), player('off'), player('silent')];
    for (const p of [on, off, silent]) channel.players.add(p);
    channel.setAudio(on, true);
    channel.setAudio(off, false);
    expect(channel.playersListening).toBe(1);
    expect([on, off, silent].map((p) => channel.isListening(p))).toEqual([true, false, false]);
    expect(channel.audioStates()).toEqual(['on', 'off', 'unknown']);
    channel.remove(on);
    expect(channel.playersListening).toBe(0);
    expect(channel.isListening(on)).toBe(false);
  });

  it('does not wait when no player listens', async () => {
    const channel = new UserChannel();
    const deaf = player('deaf');
    channel.players.add(deaf);
    channel.setAudio(deaf, false);
    expect(await endedBeforeReport(channel, channel.waitPlayed('sp_1', HOUR_MS), 'sp_1')).toBe(true);
  });

  it('waits while a player listens, and reports played', async () => {
    const channel = new UserChannel();
    const hearing = player('hearing');
    channel.players.add(hearing);
    channel.setAudio(hearing, true);
    expect(await endedBeforeReport(channel, channel.waitPlayed('sp_1', HOUR_MS), 'sp_1')).toBe(false);
  });

  it('ends the wait when the last listening player turns audio off, not while another still listens', async () => {
    const channel = new UserChannel();
    const [a, b] = [player('a'), player('b')];
    for (const p of [a, b]) {
      channel.players.add(p);
      channel.setAudio(p, true);
    }
    const first = channel.waitPlayed('sp_1', HOUR_MS);
    const second = channel.waitPlayed('sp_2', HOUR_MS);
    channel.setAudio(a, false);
    expect(await endedBeforeReport(channel, first, 'sp_1')).toBe(false);
    channel.setAudio(b, false);
    expect(await endedBeforeReport(channel, second, 'sp_2')).toBe(true);
  });

  it('ends the wait when the last listening player goes away', async () => {
    const channel = new UserChannel();
    const hearing = player('hearing');
    channel.players.add(hearing);
    channel.setAudio(hearing, true);
    const wait = channel.waitPlayed('sp_1', HOUR_MS);
    channel.remove(hearing);
    expect(await endedBeforeReport(channel, wait, 'sp_1')).toBe(true);
  });

  it('ends the wait when the last listening player is dropped for falling behind', async () => {
    const channel = new UserChannel();
    const slow = { ...player('slow'), bufferedBytes: 10 };
    channel.players.add(slow);
    channel.setAudio(slow, true);
    const wait = channel.waitPlayed('sp_1', HOUR_MS);
    channel.sendAudioTo([slow], new Uint8Array(1), 5);
    expect(channel.players.has(slow)).toBe(false);
    expect(await endedBeforeReport(channel, wait, 'sp_1')).toBe(true);
  });
});
