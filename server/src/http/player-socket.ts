import { randomBytes } from 'node:crypto';
import type { Duplex, Writable } from 'node:stream';
import { CLOSE_CODES, PLAYER_SUBPROTOCOL, type ClientMessage } from '@earshot/protocol';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import { ClientMessageSchema } from './player-messages.js';
import { keyFromSubprotocols } from '../auth/request-guard.js';
import type { PlayerConnection } from '../hub/index.js';
import { ANONYMOUS_USER, type makeResolver } from './auth.js';
import type { OriginPolicy } from '../auth/request-guard.js';
import type { AppDeps } from './deps.js';
import { routeHashOf, type RoutedPlayers } from './route-ring.js';
import { checkHostAndOrigin } from './security.js';
import { attachSpeechPlayer, speechTokenFromSubprotocols } from './speech-socket.js';
import { BINARY_OPCODE, FrameCache, TEXT_OPCODE, type Opcode } from './ws-frame.js';
import type { SpeechGrant } from '../hub/in-chat.js';

/** What a speech token opened, from the upgrade's check to its handler. */
const grants = new WeakMap<FastifyRequest, SpeechGrant>();

/** Players send small JSON messages; a bigger frame is refused by ws with 1009 (message too big). */
export const MAX_PLAYER_FRAME_BYTES = 16 * 1024;

/** Players are pinged this often; one that misses a pong is dropped (also keeps proxies from timing out). */
const HEARTBEAT_MS = 30_000;

function offersPlayerProtocol(header: string | string[] | undefined): boolean {
  const offered = (Array.isArray(header) ? header.join(',') : (header ?? '')).split(',').map((p) => p.trim());
  return offered.includes(PLAYER_SUBPROTOCOL);
}

/**
 * Errors on an open player socket (the `errorHandler` of @fastify/websocket). What a client sends wrong (a frame
 * over the limit, a broken frame) or a connection dropping is ordinary: one line without a stack, and ws has
 * already closed the socket with the right code (1009 for a frame too big, 1002 or 1007 for a broken one). Only
 * our own failures are errors.
 */
export function handlePlayerSocketError(error: Error, socket: WebSocket, request: FastifyRequest): void {
  const code = (error as NodeJS.ErrnoException).code ?? '';
  if (code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
    request.log.info(
      { code, maxBytes: MAX_PLAYER_FRAME_BYTES },
      'player frame too large: closed the socket with 1009',
    );
  } else if (code.startsWith('WS_ERR_')) {
    request.log.warn({ code, reason: error.message }, 'player sent a malformed frame: closed the socket');
  } else if (code === 'ECONNRESET' || code === 'EPIPE') {
    request.log.debug({ code }, 'player connection dropped');
  } else {
    request.log.error({ err: error }, 'player socket failed');
  }
  // ws closes (and after its close timeout destroys) the socket on its own errors; anything else ends here.
  if (!code.startsWith('WS_ERR_')) socket.terminate();
}

/**
 * The player channel at /ws. The key arrives as a subprotocol (`bearer.<base64url(key)>`) so it never
 * appears in URLs or logs; it is checked before the upgrade, so a bad key gets a plain 401.
 */
export function registerPlayerSocket(
  app: FastifyInstance,
  deps: AppDeps,
  originPolicy: OriginPolicy,
  resolve: ReturnType<typeof makeResolver>,
  routed?: RoutedPlayers,
): void {
  // A broadcast's frame is built for its first player and written as it is to the others.
  const frames = new FrameCache();
  app.get(
    '/ws',
    {
      websocket: true,
      preValidation: async (request, reply) => {
        // Cross-site WebSocket hijacking and DNS rebinding: browsers send Origin on every upgrade. The security
        // hook checks this route too; the check stays here beside the key check it guards.
        const protocols = request.headers['sec-websocket-protocol'];
        const speechToken = speechTokenFromSubprotocols(protocols);
        // A speech token is a credential the page holds, not one the browser adds: any origin may present it
        // (the in-chat player runs in the host's sandboxed frame, whose origin nobody can list in advance).
        const origin = speechToken === undefined ? request.headers.origin : undefined;
        const refusal = checkHostAndOrigin({ host: request.headers.host, origin }, originPolicy);
        if (refusal) return reply.code(403).send({ error: refusal });
        if (!offersPlayerProtocol(protocols)) {
          return reply.code(400).send({
            error: {
              code: 'invalid_input',
              message: `Offer the "${PLAYER_SUBPROTOCOL}" WebSocket subprotocol.`,
            },
          });
        }
        if (deps.lifecycle.draining) {
          return reply
            .code(503)
            .send({ error: { code: 'shutting_down', message: 'Earshot is shutting down.' } });
        }
        if (speechToken !== undefined) {
          const grant = deps.hub.inChat.open(speechToken);
          if (!grant) {
            return reply.code(401).send({
              error: {
                code: 'unauthorized',
                message: 'This speech token is unknown or expired; the next tool result brings a new one.',
              },
            });
          }
          grants.set(request, grant);
          return;
        }
        // An API key or an OAuth access token (a browser-based client's player), as on every route.
        const { user } = await resolve(keyFromSubprotocols(protocols));
        if (!user && !deps.config.omitAuth) {
          return reply.code(401).send({
            error: {
              code: 'unauthorized',
              message: 'Offer the key as the "bearer.<base64url(key)>" subprotocol.',
            },
          });
        }
        request.user = user ?? ANONYMOUS_USER;
      },
    },
    (socket, request) => {
      const grant = grants.get(request);
      if (grant) return attachSpeechPlayer(socket, grant, deps);
      attachPlayer(socket, request.raw.socket, request.user, deps, frames);
      // Behind the AWS proxy: remember where nginx's ring puts this key, so a reload moves only whom it must.
      const key = routed && keyFromSubprotocols(request.headers['sec-websocket-protocol']);
      if (!routed || key === undefined) return;
      const untrack = routed.track({
        routeHash: routeHashOf(key),
        moved: () => socket.close(CLOSE_CODES.moved, 'moved to another server: reconnect'),
      });
      socket.once('close', untrack);
    },
  );
}

export interface WriteBatch {
  /** Call before each frame written to the socket: it is held until the turn's work is done (or flush). */
  hold(): void;
  /** Writes what is held now (the first audio of a speech, which should not wait for the rest of the turn). */
  flush(): void;
}

/**
 * Frames written to one player's socket in one turn of the event loop (a chunk's captions and its audio, the
 * last chunk and the end) leave in one write. The socket is corked at the first frame and uncorked on
 * process.nextTick, once the turn's work is done and before any I/O, so no frame waits. Each frame was a
 * system call of its own: a fifth of the CPU with 5,000 players.
 */
export function batchWrites(raw: Writable): WriteBatch {
  let corked = false;
  const flush = () => {
    if (!corked) return;
    corked = false;
    raw.uncork();
  };
  return {
    hold: () => {
      if (corked) return;
      corked = true;
      raw.cork();
      process.nextTick(flush);
    },
    flush,
  };
}

function attachPlayer(socket: WebSocket, raw: Duplex, user: string, deps: AppDeps, frames: FrameCache): void {
  const log = deps.logger.child({ user, player: randomBytes(4).toString('hex') });
  const batch = batchWrites(raw);
  /**
   * Broadcasts and audio go to the socket as frames built once for all players (ws-frame.ts), in one write
   * each, beside ws's own writes (hello, pong, pings, close) in call order. Without permessage-deflate (not
   * enabled) ws writes straight to the socket too, so nothing overtakes; its bufferedAmount counts these bytes.
   */
  const framesAsIs = socket.extensions === ''; // with an extension (compression), ws must frame each send
  const send = (payload: Uint8Array, opcode: Opcode) => {
    // A closing socket takes no more messages (ws.send drops them too).
    if (socket.readyState !== socket.OPEN) return;
    batch.hold();
    if (framesAsIs) raw.write(frames.frame(payload, opcode));
    else socket.send(payload, { binary: opcode === BINARY_OPCODE });
  };
  const player: PlayerConnection = {
    id: randomBytes(6).toString('hex'),
    sendJson: (message) => {
      batch.hold();
      socket.send(JSON.stringify(message));
    },
    sendText: (utf8) => send(utf8, TEXT_OPCODE),
    sendAudio: (chunk) => send(chunk, BINARY_OPCODE),
    flush: () => batch.flush(),
    get bufferedBytes() {
      return socket.bufferedAmount;
    },
    close: (code, reason) => socket.close(code, reason),
  };
  const detach = deps.hub.connectPlayer(user, player);
  log.info({ players: deps.hub.playerCount(user) }, 'player connected');

  let alive = true;
  socket.on('pong', () => (alive = true));
  const heartbeat = setInterval(() => {
    if (!alive) return socket.terminate();
    alive = false;
    socket.ping();
  }, HEARTBEAT_MS);
  heartbeat.unref();

  socket.on('message', (data, isBinary) => {
    if (isBinary) return socket.close(CLOSE_CODES.policyViolation, 'players send JSON text only');
    let message: ClientMessage;
    try {
      message = ClientMessageSchema.parse(JSON.parse((data as Buffer).toString()));
    } catch {
      log.debug('ignored a malformed player message');
      return;
    }
    deps.hub.handlePlayerMessage(user, player, message);
  });

  socket.on('close', () => {
    clearInterval(heartbeat);
    detach();
    log.info('player disconnected');
  });
}
