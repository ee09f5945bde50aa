import { Agent, request } from 'node:http';

/** The voice every speech uses (Rachel: a premade voice the stand-in knows). */
export const VOICE_ID = '21m00Tcm4TlvDq8ikWAM';
/**
 * What the direct client asks for: the endpoint and format Earshot asks for today. The audio's duration is
 * read from this PCM (bytes / 48,000), so bandwidth and delivery-rate figures do not depend on the format a
 * target sends its players.
 */
export const DIRECT_FORMAT = 'pcm_24000';
const PCM_BYTES_PER_SECOND = 24_000 * 2;

export interface DirectResult {
  /** ms from the request to the first complete NDJSON line (the first audio a client can use). */
  readonly firstAudioMs: number;
  readonly audioBytes: number;
  /** Length of the clip, from its PCM size. */
  readonly audioSeconds: number;
}

/**
 * A direct client of the (stand-in) API, as cheap as a client can be: plain node:http with keep-alive,
 * each line parsed once, its audio counted without decoding it.
 */
export class DirectClient {
  private readonly agent = new Agent({ keepAlive: true });

  constructor(
    private readonly upstreamUrl: string,
    private readonly apiKey: string,
  ) {}

  /** `format`: another output format only to have the stand-in render it; `audioSeconds` assumes PCM. */
  speak(text: string, timeoutMs = 120_000, format = DIRECT_FORMAT): Promise<DirectResult> {
    const url = `${this.upstreamUrl}/v1/text-to-speech/${VOICE_ID}/stream/with-timestamps?output_format=${format}`;
    const headers = { 'xi-api-key': this.apiKey, 'content-type': 'application/json' };
    return new Promise((resolve, reject) => {
      const started = performance.now();
      let firstAudioMs: number | undefined;
      let audioBytes = 0;
      let partial = '';
      const call = request(url, { method: 'POST', agent: this.agent, headers, timeout: timeoutMs }, (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          return reject(new Error(`the stand-in answered ${res.statusCode}`));
        }
        res.setEncoding('utf8');
        res.on('data', (text: string) => {
          const lines = (partial + text).split('\n');
          partial = lines.pop() ?? '';
          for (const line of lines) {
            const audio = (JSON.parse(line) as { audio_base64: string }).audio_base64;
            firstAudioMs ??= performance.now() - started;
            audioBytes += Buffer.byteLength(audio, 'base64');
          }
        });
        res.on('end', () => {
          if (firstAudioMs === undefined) return reject(new Error('the stand-in sent no audio'));
          resolve({ firstAudioMs, audioBytes, audioSeconds: audioBytes / PCM_BYTES_PER_SECOND });
        });
        res.on('error', reject);
      });
      call.on('timeout', () => call.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      call.on('error', reject);
      call.end(JSON.stringify({ text, model_id: 'eleven_flash_v2_5' }));
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
