import { randomBytes } from 'node:crypto';
import {
  CLOSE_CODES,
  SPEECH_TOKEN_SUBPROTOCOL_PREFIX,
  type ClientMessage,
  type ServerMessage,
} from '@earshot/protocol';
import type { WebSocket } from 'ws';
import { chooseMimeType, createTranscoder, type Transcoder } from '../audio/formats.js';
import type { SpeechGrant } from '../hub/in-chat.js';
import type { TapeItem } from '../hub/speech-tape.js';
import type { AppDeps } from './deps.js';
import { ClientMessageSchema } from './player-messages.js';

/** An in-chat player with more unsent audio than this is dropped, as a console player would be. */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;

/** The token an in-chat player offers as the `speech-token.<token>` subprotocol, or undefined. */
export function speechTokenFromSubprotocols(header: string | string[] | undefined): string | undefined {
  const offered = (Array.isArray(header) ? header.join(',') : (header ?? '')).split(',').map((p) => p.trim());
  const value = offered
    .find((protocol) => protocol.startsWith(SPEECH_TOKEN_SUBPROTOCOL_PREFIX))
    ?.slice(SPEECH_TOKEN_SUBPROTOCOL_PREFIX.length);
  // `est_<route tag>.<secret>` (route-tag.ts); the dot is allowed in a subprotocol token.
  return value !== undefined && /^[A-Za-z0-9_.-]{16,128}$/.test(value) ? value : undefined;
}

/**
 * A player that holds a speech token (the MCP Apps player in a chat): it hears that one speech from its start
 * (it arrives after the tool result, so usually after generation) and may stop it; every other message a
 * console player may send is ignored or limited to this speech. It never joins the user's channel, so no other
 * speech, setting or history reaches it.
 */
export function attachSpeechPlayer(socket: WebSocket, grant: SpeechGrant, deps: AppDeps): void {
  const { user, speechId } = grant;
  const log = deps.logger.child({ user, speech: speechId, player: randomBytes(4).toString('hex') });
  let accept: readonly string[] | undefined;
  let following: (() => void) | null = null;
  let transcoder: Transcoder | null = null;
  let sentBytes = 0;

  const send = (message: ServerMessage) => socket.send(JSON.stringify(message));
  const sendAudio = (chunks: readonly Uint8Array[]) => {
    for (const chunk of chunks) {
      if (chunk.byteLength === 0) continue;
      if (socket.bufferedAmount > MAX_BUFFERED_BYTES) {
        socket.close(CLOSE_CODES.tooSlow, 'player fell too far behind');
        return;
      }
      sentBytes += chunk.byteLength;
      socket.send(chunk, { binary: true });
    }
  };
  const play = (item: TapeItem) => {
    if (item.kind === 'audio') return sendAudio(transcoder ? transcoder.push(item.chunk) : [item.chunk]);
    const message = item.message;
    if (message.type === 'speech.start') {
      const mimeType = chooseMimeType(message.audio, accept);
      transcoder = mimeType === message.audio.mimeType ? null : createTranscoder(message.audio, mimeType);
      return send({ ...message, audio: transcoder?.format ?? message.audio });
    }
    if (message.type === 'speech.end') {
      if (transcoder) sendAudio(transcoder.end());
      transcoder = null;
      return send({ ...message, bytes: sentBytes });
    }
    if (message.type === 'speech.stopped' || message.type === 'speech.error') {
      transcoder?.close();
      transcoder = null;
    }
    send(message);
  };

  send({ type: 'hello', user, engine: deps.engine.name });
  log.info('in-chat player connected');

  socket.on('message', (data, isBinary) => {
    if (isBinary) return socket.close(CLOSE_CODES.policyViolation, 'players send JSON text only');
    let message: ClientMessage;
    try {
      message = ClientMessageSchema.parse(JSON.parse((data as Buffer).toString()));
    } catch {
      return;
    }
    switch (message.type) {
      case 'state':
        accept = message.accept ?? accept;
        if (message.audio) grant.setListening(message.audio === 'on');
        // The first state says what the player decodes: only then is the format known, so the tape starts.
        following ??= grant.tape.follow(play);
        break;
      case 'stop':
        deps.hub.stopSpeech(user, speechId);
        break;
      case 'played':
        if (message.id === speechId) deps.hub.markPlayed(user, speechId);
        break;
      case 'ping':
        send({ type: 'pong' });
        break;
    }
  });

  socket.on('close', () => {
    following?.();
    transcoder?.close();
    grant.release();
    log.info('in-chat player disconnected');
  });
}
