export {
  DEFAULT_MAX_AUDIO_SECONDS,
  FliteSynthesizer,
  type FliteSynthesizerOptions,
  type SynthesisOptions,
  type SynthesizedAudio,
} from './synthesizer.js';
export { FliteError, type FliteErrorCode } from './errors.js';
export type { FliteEvent } from './pool.js';
export { splitIntoSentences } from './sentences.js';
export { FLITE_VOICES, FLITE_SAMPLE_RATE, type FliteVoice } from './voices.js';
export {
  OggOpusDecoder,
  OggOpusEncoder,
  OggOpusMeter,
  OggOpusMuxer,
  type OggOpusEncoderOptions,
} from './opus/ogg-opus.js';
export { ENCODER_PRE_SKIP, OPUS_RATES, OpusDecoder, OpusEncoder, type OpusRate } from './opus/opus.js';
