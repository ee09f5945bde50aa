/** Big-endian bit writer into a fixed buffer. */
export class BitWriter {
  private bitPosition = 0;

  constructor(readonly bytes: Uint8Array) {}

  get position(): number {
    return this.bitPosition;
  }

  write(value: number, width: number): void {
    for (let bit = width - 1; bit >= 0; bit--) {
      if ((value >>> bit) & 1) this.bytes[this.bitPosition >> 3]! |= 0x80 >> (this.bitPosition & 7);
      this.bitPosition++;
    }
  }
}
