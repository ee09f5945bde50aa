export { startStandin, type Standin, type StandinOptions, type LoggedRequest } from './server.js';
export { DEFAULT_PACING, type Pacing } from './pacing.js';
export type { Fault, StatusFault, ResetFault, StallFault, FaultTarget } from './faults.js';
export { VOICE_FIXTURES, type VoiceFixture } from './fixtures/voices.js';
export { MODEL_FIXTURES, type ModelFixture } from './fixtures/models.js';
export { OUTPUT_FORMAT_IDS, parseOutputFormat, type OutputFormat } from './audio/formats.js';
export { LIBRARY_VOICES, type LibraryVoiceFixture } from './fixtures/library.js';
