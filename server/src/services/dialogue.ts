import { OGG_OPUS, type AudioFormat, type VoiceSettings } from '@earshot/protocol';
import { OggOpusJoiner } from '../audio/ogg-join.js';
import type { SynthesisEvent, SynthesisStream, VoiceEngine } from '../engines/index.js';
import { pcmDurationMs } from '../hub/index.js';

export interface DialogueLine {
  readonly voiceId: string;
  readonly text: string;
}

/**
 * A multi-voice script as one continuous stream: each line is its own engine request, stitched to the
 * ones before it (`previous_request_ids`) so the voices flow; lines start as soon as the previous ends,
 * and character timings continue across lines. The first line is requested before this resolves, so a
 * bad key or voice fails before anything plays.
 */
export async function dialogueStream(
  engine: VoiceEngine,
  lines: readonly DialogueLine[],
  options: {
    readonly modelId?: string;
    readonly settings?: VoiceSettings;
    readonly languageCode?: string;
    readonly requester?: string;
  },
  signal: AbortSignal,
): Promise<SynthesisStream> {
  const requestIds: string[] = [];
  let credits = 0;
  const request = async (line: DialogueLine) => {
    const stream = await engine.synthesize(
      {
        text: line.text,
        voiceId: line.voiceId,
        modelId: options.modelId,
        settings: options.settings,
        ...(options.languageCode ? { languageCode: options.languageCode } : {}),
        previousRequestIds: [...requestIds],
        requester: options.requester,
      },
      signal,
    );
    if (stream.requestId) requestIds.push(stream.requestId);
    return stream;
  };
  const first = await request(lines[0]!);
  const format: AudioFormat = first.format;

  // Ogg Opus lines are joined into one stream; PCM (older engines, tests) simply follows on.
  const joiner = format.mimeType === OGG_OPUS ? new OggOpusJoiner() : null;

  async function* events(): AsyncIterable<SynthesisEvent> {
    let pcmOffsetMs = 0;
    let stream: SynthesisStream | undefined = first;
    for (let index = 0; stream; index++) {
      let bytes = 0;
      joiner?.startLink();
      const offsetMs = joiner ? joiner.linkStartMs : pcmOffsetMs;
      for await (const event of stream.events) {
        if (event.type === 'audio') {
          bytes += event.data.byteLength;
          if (!joiner) yield event;
          else for (const page of joiner.push(event.data)) yield { type: 'audio', data: page };
        } else {
          yield { ...event, startMs: event.startMs.map((ms) => ms + offsetMs) };
        }
      }
      credits += stream.credits;
      pcmOffsetMs += pcmDurationMs(bytes, format);
      const next = lines[index + 1];
      stream = next ? await request(next) : undefined;
    }
    if (joiner) for (const page of joiner.end()) yield { type: 'audio', data: page };
  }

  return {
    format,
    requestId: first.requestId,
    get credits() {
      return credits;
    },
    events: events(),
  };
}
