export interface Mp3EncoderOptions {
  readonly sampleRate: number;
  readonly bitrateKbps: number;
}

export class Mp3Encoder {
  constructor(readonly options: Mp3EncoderOptions) {}
  encode(_samples: Int16Array): Buffer {
    return Buffer.alloc(0);
  }
  flush(): Buffer {
    return Buffer.alloc(0);
  }
}
