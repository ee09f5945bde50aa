import type { HistoryItem } from '@earshot/protocol';
import type { CallToolResult } from '@modelcontextprotocol/server';
import { EarshotError } from '../errors.js';
import { checkOutputFileName, userOutputDir, writeOutputFile } from '../services/output-files.js';
import { storedWav } from '../services/stored-wav.js';
import { AudioMissingError, type Store } from '../storage/index.js';

export type OutputMode = 'link' | 'audio' | 'file';

/** Audio returned inline must stay small: clients cap result sizes (Claude Code warns past ~10k tokens). */
export const INLINE_AUDIO_MAX_BYTES = 512 * 1024;
/** What a resource read returns at most. */
export const RESOURCE_AUDIO_MAX_BYTES = 16 * 1024 * 1024;

export function historyResourceUri(id: string): string {
  return `earshot://history/${id}`;
}

/**
 * A stored item's audio as a complete WAV file in memory; null when there is none (never stored, or its
 * file is gone) or it is larger than `maxBytes`. Audio shorter than recorded throws (audio_incomplete).
 */
export async function readWav(
  store: Store,
  user: string,
  item: HistoryItem,
  maxBytes: number,
): Promise<Buffer | null> {
  if (!item.audio) return null;
  let wav;
  try {
    // Ogg Opus is decoded to WAV here, so what agents get stays a WAV file whatever Earshot stores.
    wav = await storedWav(store, user, item);
  } catch (error) {
    if (error instanceof AudioMissingError && error.reason !== 'short') return null;
    throw error;
  }
  if (wav.bytes > maxBytes) {
    wav.discard();
    return null;
  }
  const chunks: Uint8Array[] = [];
  for await (const chunk of wav.stream) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/**
 * Inline audio as an embedded resource (`type: "resource"` with a base64 blob), not MCP `audio` content: every
 * revision since 2024-11-05 and every client tried (docs/clients.md) accepts embedded resources, while
 * `audio` content made @ai-sdk/mcp 1.x refuse the whole result — it negotiates 2025-11-25 like the official
 * SDK, so a stateless call cannot tell it apart. The URI is the one resources/read answers for the same audio.
 */
export function embeddedWav(uri: string, wav: Buffer) {
  return {
    type: 'resource' as const,
    resource: { uri, mimeType: 'audio/wav', blob: wav.toString('base64') },
  };
}

export interface DeliverOptions {
  readonly mode: OutputMode;
  readonly store: Store;
  readonly user: string;
  readonly item: HistoryItem;
  readonly httpUrl: string;
  readonly outputDir: string | undefined;
  readonly fileName?: string;
}

/**
 * The content blocks that hand generated audio to the agent: a resource link (default), the audio inline as an
 * embedded resource under a size cap (else a link, saying why), or a file in the user's folder of
 * EARSHOT_OUTPUT_DIR. Never base64 in text.
 */
export async function deliverAudio(
  options: DeliverOptions,
): Promise<{ content: CallToolResult['content']; note: string; path?: string }> {
  const { item } = options;
  const link = {
    type: 'resource_link' as const,
    uri: historyResourceUri(item.id),
    name: `earshot-${item.id}.wav`,
    mimeType: 'audio/wav',
    description: `Speech "${item.text.slice(0, 60)}" — also at ${options.httpUrl}?format=wav with the same bearer key.`,
  };
  if (options.mode === 'audio') {
    const wav = await readWav(options.store, options.user, item, INLINE_AUDIO_MAX_BYTES);
    if (wav) {
      return {
        content: [embeddedWav(link.uri, wav)],
        note: `Audio attached: the WAV inline as the embedded resource ${link.uri}.`,
      };
    }
    return {
      content: [link],
      note: `The audio is over the ${INLINE_AUDIO_MAX_BYTES / 1024} KB inline limit, so here is a link instead.`,
    };
  }
  if (options.mode === 'file') {
    const fileName = options.fileName ?? `earshot-${item.id}.wav`;
    // Checked (and the folder made) before the audio is decoded.
    checkOutputFileName(fileName, 'wav');
    await userOutputDir(options.outputDir, options.user);
    const wav = await readWav(options.store, options.user, item, RESOURCE_AUDIO_MAX_BYTES);
    if (!wav) throw new EarshotError('not_found', 'The audio was not stored, so there is nothing to write.');
    const path = await writeOutputFile(options.outputDir, options.user, fileName, 'wav', wav);
    return { content: [link], note: `Saved to ${path}.`, path };
  }
  return { content: [link], note: `Audio: ${options.httpUrl}` };
}

/**
 * Delivers a finished speech's stored audio in the asked mode. The speech must have been kept in history
 * (text_to_speech and sound effects always keep theirs).
 */
export async function deliverStored(
  options: Omit<DeliverOptions, 'item' | 'httpUrl'> & {
    readonly id: string;
    readonly httpUrl: (id: string) => string;
  },
) {
  const item = await options.store.getHistory(options.user, options.id);
  if (!item?.audio) {
    throw new EarshotError(
      'store_unavailable',
      'The audio was generated (and spent) but could not be kept, so there is nothing to return; the server ' +
        'log says why. Retry once the store can write.',
    );
  }
  return deliverAudio({ ...options, item, httpUrl: options.httpUrl(item.id) });
}
