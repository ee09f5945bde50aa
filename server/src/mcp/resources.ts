import {
  ProtocolError,
  ProtocolErrorCode,
  ResourceNotFoundError,
  ResourceTemplate,
  type McpServer,
} from '@modelcontextprotocol/server';
import { toEarshotError } from '../errors.js';
import { historyResourceUri, readWav, RESOURCE_AUDIO_MAX_BYTES } from './audio-output.js';
import type { ToolDeps } from './context.js';

const LISTED = 20;

/**
 * `earshot://history/{id}`: the caller's stored speech as WAV resources (the recent ones are listed). A miss is
 * `ResourceNotFoundError`: -32602 with `data.uri`, which 2026-07-28 requires and the SDK sends on every revision.
 */
export function registerHistoryResource(server: McpServer, deps: ToolDeps, user: string): void {
  server.registerResource(
    'history-audio',
    new ResourceTemplate('earshot://history/{id}', {
      list: async () => {
        const { items } = await deps.store.listHistory(user, { limit: LISTED });
        return {
          resources: items
            .filter((item) => item.audio !== null)
            .map((item) => ({
              uri: historyResourceUri(item.id),
              name: `earshot-${item.id}.wav`,
              mimeType: 'audio/wav',
              description: item.text.slice(0, 100),
            })),
        };
      },
    }),
    {
      title: 'Spoken audio',
      description: 'Audio Earshot generated for you, as WAV.',
      mimeType: 'audio/wav',
    },
    async (uri, variables) => {
      const id = String(variables.id);
      try {
        const item = await deps.store.getHistory(user, id);
        if (!item) throw new ResourceNotFoundError(uri.href, `No history item "${id}".`);
        const wav = await readWav(deps.store, user, item, RESOURCE_AUDIO_MAX_BYTES);
        if (!wav)
          throw new ResourceNotFoundError(
            uri.href,
            `History item "${id}" has no stored audio small enough to read.`,
          );
        return { contents: [{ uri: uri.href, mimeType: 'audio/wav', blob: wav.toString('base64') }] };
      } catch (error) {
        if (error instanceof ProtocolError) throw error;
        // Store failures say what to do; the file names and causes stay in the server log.
        throw new ProtocolError(ProtocolErrorCode.InternalError, toEarshotError(error).message);
      }
    },
  );
}
