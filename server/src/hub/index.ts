export { Hub, type HubOptions } from './hub.js';
export type {
  KeepPolicy,
  NotKept,
  PlayerConnection,
  SpeechHandle,
  SpeechJob,
  SpeechOutcome,
  SpeechStatus,
} from './types.js';
export { pcmDurationMs } from './types.js';
