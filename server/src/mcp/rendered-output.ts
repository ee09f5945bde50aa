import { randomBytes } from 'node:crypto';
import type { CallToolResult } from '@modelcontextprotocol/server';
import type { OutputFormat } from '../audio/output-formats.js';
import { EarshotError } from '../errors.js';
import { writeOutputFile } from '../services/output-files.js';
import type { RenderedSpeech } from '../services/render.js';
import { INLINE_AUDIO_MAX_BYTES } from './audio-output.js';
import type { ToolDeps } from './context.js';

/** Length of a rendered clip: exact for PCM and G.711, from the constant bit rate for MP3 and Opus. */
export function renderedDurationMs(rendered: RenderedSpeech): number {
  const format = rendered.format;
  const payload = format.extension === 'wav' ? rendered.audio.length - 46 : rendered.audio.length;
  const bytesPerSecond =
    format.codec === 'pcm'
      ? format.sampleRate * 2
      : format.codec === 'ulaw' || format.codec === 'alaw'
        ? 8000
        : ((format.bitrateKbps ?? 32) * 1000) / 8;
  return Math.round((Math.max(0, payload) / bytesPerSecond) * 1000);
}

/** "earshot-20261201-025959-a1b2c3.mp3": rendered clips have no history id to be named after. */
function defaultFileName(format: OutputFormat): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `earshot-${stamp}-${randomBytes(3).toString('hex')}.${format.extension}`;
}

/**
 * Hands a rendered clip over: inline under the size cap, else (or when asked) as a file in the caller's
 * folder. A clip too big for inline with no output folder cannot be returned: the error says what it cost.
 */
export async function deliverRendered(
  deps: Pick<ToolDeps, 'outputDir'>,
  user: string,
  rendered: RenderedSpeech,
  args: { output?: 'link' | 'audio' | 'file'; file_name?: string },
): Promise<{ content: CallToolResult['content']; note: string; path?: string }> {
  const { format, audio } = rendered;
  if (args.output === 'audio' && audio.length <= INLINE_AUDIO_MAX_BYTES) {
    // An embedded resource, as every inline audio is (see embeddedWav); the clip is not kept, so its URI only
    // names it — resources/read does not serve it.
    const uri = `earshot://clip/${args.file_name ?? defaultFileName(format)}`;
    return {
      content: [
        { type: 'resource', resource: { uri, mimeType: format.mimeType, blob: audio.toString('base64') } },
      ],
      note: `Audio attached (${format.id}, ${format.mimeType}) as the embedded resource ${uri}.`,
    };
  }
  if (args.output === 'audio' && !deps.outputDir) {
    throw new EarshotError(
      'audio_too_long',
      `The ${format.id} audio is ${Math.ceil(audio.length / 1024)} KB, over the ${INLINE_AUDIO_MAX_BYTES / 1024} KB ` +
        `inline limit, and there is no output folder to write it to (${rendered.credits} credits were spent). ` +
        'Use a smaller format or shorter text.',
    );
  }
  const path = await writeOutputFile(
    deps.outputDir,
    user,
    args.file_name ?? defaultFileName(format),
    format.extension,
    audio,
  );
  const why = args.output === 'audio' ? ' (over the inline limit, so written to a file instead)' : '';
  return { content: [], note: `Saved ${format.id} to ${path}${why}.`, path };
}
