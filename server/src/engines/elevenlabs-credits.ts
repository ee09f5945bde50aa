/**
 * The credits an ElevenLabs response cost, from its `character-cost` header, for every engine call that reads it.
 * Fails closed where money is spent: a missing, empty, negative or non-numeric value counts as `fallback`, never
 * as less. (Read with `Number()`, an empty header was 0 credits and a negative one would have refunded budget.)
 */
export function creditsCharged(header: string | null, fallback: number): number {
  const value = header?.trim() ?? '';
  return /^\d{1,12}(?:\.\d{1,6})?$/.test(value) ? Number(value) : fallback;
}
