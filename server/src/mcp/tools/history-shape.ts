import type { HistoryItem } from '@earshot/protocol';
import { z } from 'zod';

export const historyItemShape = z.object({
  id: z.string(),
  createdAt: z.string(),
  text: z.string(),
  voice: z.object({ id: z.string(), name: z.string() }),
  model: z.string().nullable(),
  source: z.string().describe('Who asked: mcp, console, cli or api.'),
  characters: z.number(),
  credits: z.number(),
  durationMs: z.number(),
  hasAudio: z.boolean(),
  audioUrl: z.string().nullable(),
});

export function historyForTools(item: HistoryItem, audioUrl: (id: string) => string) {
  return {
    id: item.id,
    createdAt: item.createdAt,
    text: item.text,
    voice: { ...item.voice },
    model: item.model,
    source: item.source,
    characters: item.characters,
    credits: item.credits,
    durationMs: item.durationMs,
    hasAudio: item.audio !== null,
    audioUrl: item.audio ? audioUrl(item.id) : null,
  };
}

/** One line per item, the text cut short so a long history stays a small result. */
export function historyLine(item: HistoryItem): string {
  const text = item.text.length > 80 ? `${item.text.slice(0, 77)}…` : item.text;
  const seconds = (item.durationMs / 1000).toFixed(1);
  return `- ${item.id} · ${item.createdAt.slice(0, 16).replace('T', ' ')} · ${item.voice.name} · ${seconds} s · via ${item.source}${item.audio ? '' : ' · no audio'}: "${text}"`;
}
