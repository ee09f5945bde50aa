export { FliteSynthesizer, type SynthesisOptions, type SynthesizedAudio } from './synthesizer.js';
export { splitIntoSentences } from './sentences.js';
export { FLITE_VOICES, FLITE_SAMPLE_RATE, type FliteVoice } from './voices.js';
