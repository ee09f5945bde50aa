/** Scheduling lead: audio is queued this far ahead of "now" so small network gaps do not click. */
const LEAD_SECONDS = 0.08;

/**
 * Web Audio output for streamed audio (16-bit PCM, or samples decoded from Opus): each chunk becomes a buffer source scheduled right after the
 * previous one, so playback starts with the first chunk and never waits for the whole clip.
 */
export class AudioOut {
  readonly context: AudioContext;
  readonly analyser: AnalyserNode;
  /** Context time at which the last scheduled chunk ends. */
  playhead = 0;
  private readonly sources = new Map<AudioBufferSourceNode, string>();
  private readonly samples: Float32Array<ArrayBuffer>;

  constructor() {
    this.context = new AudioContext();
    this.analyser = this.context.createAnalyser();
    this.analyser.fftSize = 1024;
    this.analyser.connect(this.context.destination);
    this.samples = new Float32Array(this.analyser.fftSize);
  }

  /** Schedules one chunk of 16-bit PCM; returns its source and the context time it starts at. */
  schedule(
    speechId: string,
    pcm: Uint8Array,
    sampleRate: number,
    onEnded: (source: AudioBufferSourceNode) => void,
  ): { source: AudioBufferSourceNode; startAt: number } {
    const view = new DataView(pcm.buffer, pcm.byteOffset, pcm.byteLength);
    const samples = new Float32Array(pcm.length / 2);
    for (let i = 0; i < samples.length; i++) samples[i] = view.getInt16(i * 2, true) / 32768;
    return this.scheduleSamples(speechId, samples, sampleRate, onEnded);
  }

  /** Schedules decoded mono samples (from Opus) right after what is already scheduled. */
  scheduleSamples(
    speechId: string,
    samples: Float32Array,
    sampleRate: number,
    onEnded: (source: AudioBufferSourceNode) => void,
  ): { source: AudioBufferSourceNode; startAt: number } {
    const clip = this.context.createBuffer(1, samples.length, sampleRate);
    clip.copyToChannel(samples as Float32Array<ArrayBuffer>, 0);
    const source = this.context.createBufferSource();
    source.buffer = clip;
    source.connect(this.analyser);
    const startAt = Math.max(this.playhead, this.context.currentTime + LEAD_SECONDS);
    source.start(startAt);
    this.playhead = startAt + clip.duration;
    this.sources.set(source, speechId);
    source.onended = () => {
      this.sources.delete(source);
      onEnded(source);
    };
    return { source, startAt };
  }

  /** Stops everything scheduled (or only one speech's audio) and lets the next chunk start right away. */
  stop(speechId?: string): void {
    for (const [source, id] of this.sources) {
      if (speechId !== undefined && id !== speechId) continue;
      source.onended = null;
      source.stop();
      this.sources.delete(source);
    }
    if (speechId === undefined || this.sources.size === 0) this.playhead = 0;
  }

  get idle(): boolean {
    return this.playhead <= this.context.currentTime;
  }

  /** The real output level: what the speakers get, not what the network sent. */
  level(): number {
    this.analyser.getFloatTimeDomainData(this.samples);
    let peak = 0;
    for (const sample of this.samples) peak = Math.max(peak, Math.abs(sample));
    return peak;
  }
}

/** 16-bit samples can straddle two frames: joins a carried odd byte and returns the new carry. */
export function alignPcm(
  chunk: Uint8Array,
  carry: number | null,
): { bytes: Uint8Array; carry: number | null } {
  let bytes = chunk;
  if (carry !== null) {
    const joined = new Uint8Array(bytes.length + 1);
    joined[0] = carry;
    joined.set(bytes, 1);
    bytes = joined;
  }
  if (bytes.length % 2 === 1) {
    return { bytes: bytes.subarray(0, bytes.length - 1), carry: bytes[bytes.length - 1] ?? null };
  }
  return { bytes, carry: null };
}
