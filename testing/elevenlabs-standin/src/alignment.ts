/** Character timings in the shape of the API's `alignment` objects. */
export interface Alignment {
  characters: string[];
  character_start_times_seconds: number[];
  character_end_times_seconds: number[];
}

export function emptyAlignment(): Alignment {
  return { characters: [], character_start_times_seconds: [], character_end_times_seconds: [] };
}

const round3 = (seconds: number) => Math.round(seconds * 1000) / 1000;

/**
 * Spreads each synthesised piece's duration evenly over its characters in `text`, piece by piece as
 * the audio is generated. Whitespace between pieces gets zero duration at the boundary. Pieces are the
 * whitespace-normalised sentences Flite was given, so they are matched by their non-space characters.
 */
export class Aligner {
  private cursor = 0;

  constructor(private readonly text: string) {}

  /** Timings for the next piece (and the whitespace before it), which plays from `start` for `duration` s. */
  next(piece: string, start: number, duration: number): Alignment {
    const out = emptyAlignment();
    const chars = Array.from(this.text.slice(this.cursor));
    let consumed = 0;
    // Leading whitespace: zero length at the piece's start.
    while (consumed < chars.length && /\s/.test(chars[consumed]!)) {
      push(out, chars[consumed]!, start, start);
      consumed++;
    }
    const need = piece.replace(/\s/g, '').length;
    const spanChars: string[] = [];
    let found = 0;
    while (consumed < chars.length && found < need) {
      const char = chars[consumed]!;
      spanChars.push(char);
      if (!/\s/.test(char)) found++;
      consumed++;
    }
    const share = spanChars.length > 0 ? duration / spanChars.length : 0;
    spanChars.forEach((char, index) => push(out, char, start + index * share, start + (index + 1) * share));
    this.cursor += chars.slice(0, consumed).join('').length;
    return out;
  }

  /** Whatever follows the last piece (trailing whitespace), at `end`. */
  rest(end: number): Alignment {
    const out = emptyAlignment();
    for (const char of Array.from(this.text.slice(this.cursor))) push(out, char, end, end);
    this.cursor = this.text.length;
    return out;
  }
}

function push(alignment: Alignment, char: string, start: number, end: number): void {
  alignment.characters.push(char);
  alignment.character_start_times_seconds.push(round3(start));
  alignment.character_end_times_seconds.push(round3(end));
}

export function appendAlignment(target: Alignment, more: Alignment): void {
  target.characters.push(...more.characters);
  target.character_start_times_seconds.push(...more.character_start_times_seconds);
  target.character_end_times_seconds.push(...more.character_end_times_seconds);
}

/** Removes and returns the characters that start before `until` seconds (all of them if undefined). */
export function takeAlignment(source: Alignment, until: number | undefined): Alignment {
  let count = 0;
  while (
    count < source.characters.length &&
    (until === undefined || source.character_start_times_seconds[count]! < until)
  ) {
    count++;
  }
  return {
    characters: source.characters.splice(0, count),
    character_start_times_seconds: source.character_start_times_seconds.splice(0, count),
    character_end_times_seconds: source.character_end_times_seconds.splice(0, count),
  };
}
