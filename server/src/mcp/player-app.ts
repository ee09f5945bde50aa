import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  RESOURCE_MIME_TYPE,
  RESOURCE_URI_META_KEY,
  registerAppResource,
} from '@modelcontextprotocol/ext-apps/server';
import { ProtocolError, ProtocolErrorCode, type McpServer } from '@modelcontextprotocol/server';
import { CONSOLE_DIR } from '../http/static.js';
import type { ToolDeps } from './context.js';

/** The MCP Apps player: hosts that render MCP Apps show it in the chat for the tools that play. */
export const PLAYER_APP_URI = 'ui://earshot/player';

/** The built player page (one self-contained HTML file), beside the console: `npm run build` makes both. */
export const PLAYER_APP_FILE = join(CONSOLE_DIR, 'mcp-app', 'player.html');

/** `_meta` of the tools whose results the in-chat player plays (both spellings: older hosts read the flat key). */
export const PLAYER_APP_TOOL_META = {
  ui: { resourceUri: PLAYER_APP_URI },
  [RESOURCE_URI_META_KEY]: PLAYER_APP_URI,
} as const;

/** Where a tool result puts what the in-chat player needs (hidden from the model, passed to the app). */
export const IN_CHAT_META_KEY = 'earshot/player';

export interface InChatPlayerMeta {
  readonly speechId: string;
  /** Opens this speech's audio and its stop on /ws (subprotocol `speech-token.<token>`), nothing else. */
  readonly playerToken: string;
  readonly expiresAt: string;
  readonly socketUrl: string;
  /** False for audio made without playing (text_to_speech): the player waits for a click. */
  readonly autoplay: boolean;
}

/**
 * The `_meta` of a tool result with a token for its speech, or undefined when the speech is no longer kept.
 * The token goes in `_meta`, not in the content the model reads.
 */
export function inChatPlayerMeta(
  deps: ToolDeps,
  user: string,
  speechId: string,
  autoplay = true,
): Record<string, InChatPlayerMeta> | undefined {
  const issued = deps.hub.inChat.issue(user, speechId);
  if (!issued) return undefined;
  const socketUrl = new URL('ws', deps.speech.playerPageUrl());
  socketUrl.protocol = socketUrl.protocol === 'https:' ? 'wss:' : 'ws:';
  return {
    [IN_CHAT_META_KEY]: {
      speechId,
      playerToken: issued.token,
      expiresAt: issued.expiresAt.toISOString(),
      socketUrl: socketUrl.href,
      autoplay,
    },
  };
}

/**
 * Said after "Nobody heard it: …" when the result carries an in-chat player: in hosts that render MCP Apps the
 * speech plays under the call (after the result, so it was not counted), and the console is not needed there.
 */
export const IN_CHAT_NOTE =
  ' If the chat shows the Earshot player under this call (hosts that render MCP Apps), it plays there instead; ' +
  'the user may have to press Play.';

/** The result text, with IN_CHAT_NOTE when nobody listened and the in-chat player can still play it. */
export function withInChatNote(text: string, playersListening: number, meta: object | undefined): string {
  return meta !== undefined && playersListening === 0 ? text + IN_CHAT_NOTE : text;
}

/**
 * The CSP the host applies to the player's frame: it reaches Earshot's origin only (its WebSocket; the page
 * itself is inline, audio plays through WebAudio, so no other domain is needed).
 */
export function playerAppCsp(publicPageUrl: string): { connectDomains: string[]; resourceDomains: string[] } {
  const http = new URL(publicPageUrl);
  const ws = new URL(publicPageUrl);
  ws.protocol = http.protocol === 'https:' ? 'wss:' : 'ws:';
  return { connectDomains: [http.origin, ws.origin], resourceDomains: [] };
}

let cachedHtml: string | undefined;

function playerHtml(): string {
  try {
    cachedHtml ??= readFileSync(PLAYER_APP_FILE, 'utf8');
    return cachedHtml;
  } catch {
    throw new ProtocolError(
      ProtocolErrorCode.InternalError,
      'The in-chat player is not built; run `npm run build` in the Earshot folder.',
    );
  }
}

/** Registers `ui://earshot/player` (resources/list and resources/read). */
export function registerPlayerApp(server: McpServer, deps: ToolDeps): void {
  const csp = playerAppCsp(deps.speech.playerPageUrl());
  const ui = { csp, prefersBorder: true };
  registerAppResource(
    server,
    'Earshot player',
    PLAYER_APP_URI,
    {
      title: 'Earshot player',
      description: 'Plays the speech of speak, speak_dialogue, replay and text_to_speech inside the chat.',
      _meta: { ui },
    },
    async () => ({
      contents: [{ uri: PLAYER_APP_URI, mimeType: RESOURCE_MIME_TYPE, text: playerHtml(), _meta: { ui } }],
    }),
  );
}
