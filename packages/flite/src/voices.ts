/** The Flite voices bundled in the WASI build that sound natural enough to use (all 16 kHz). */
export interface FliteVoice {
  /** Flite's own voice name, passed to `-voice`. */
  readonly id: string;
  readonly name: string;
  readonly gender: 'female' | 'male';
  readonly accent: string;
  readonly description: string;
}

export const FLITE_VOICES: readonly FliteVoice[] = [
  {
    id: 'slt',
    name: 'Sally',
    gender: 'female',
    accent: 'american',
    description: 'Clear US English, female.',
  },
  { id: 'rms', name: 'Robert', gender: 'male', accent: 'american', description: 'Deep US English, male.' },
  { id: 'awb', name: 'Alan', gender: 'male', accent: 'scottish', description: 'Scottish English, male.' },
  { id: 'kal16', name: 'Kevin', gender: 'male', accent: 'american', description: 'Bright US English, male.' },
];

export const FLITE_SAMPLE_RATE = 16_000;
