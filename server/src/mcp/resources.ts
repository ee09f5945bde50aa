import { ResourceTemplate, type McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import { toEarshotError } from '../errors.js';
import { historyResourceUri, readWav, RESOURCE_AUDIO_MAX_BYTES } from './audio-output.js';
import type { CallerContext, ToolDeps } from './context.js';

const LISTED = 20;

/** `earshot://history/{id}`: the caller's stored speech as WAV resources (the recent ones are listed). */
export function registerHistoryResource(server: McpServer, deps: ToolDeps, caller: CallerContext): void {
  server.registerResource(
    'history-audio',
    new ResourceTemplate('earshot://history/{id}', {
      list: async () => {
        const { items } = await deps.store.listHistory(caller.user, { limit: LISTED });
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
        const item = await deps.store.getHistory(caller.user, id);
        if (!item) throw resourceNotFound(uri.href, `No history item "${id}".`);
        const wav = await readWav(deps.store, caller.user, item, RESOURCE_AUDIO_MAX_BYTES);
        if (!wav)
          throw resourceNotFound(uri.href, `History item "${id}" has no stored audio small enough to read.`);
        return { contents: [{ uri: uri.href, mimeType: 'audio/wav', blob: wav.toString('base64') }] };
      } catch (error) {
        if (error instanceof McpError) throw error;
        // Store failures say what to do; the file names and causes stay in the server log.
        throw new McpError(ErrorCode.InternalError, toEarshotError(error).message);
      }
    },
  );
}

/** MCP's "Resource not found" (-32002), with the URI in its data as the spec asks. */
function resourceNotFound(uri: string, message: string): McpError {
  return new McpError(RESOURCE_NOT_FOUND, message, { uri });
}

const RESOURCE_NOT_FOUND = -32002;
