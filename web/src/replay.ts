import type { Api } from './api.js';
import { downloadBlob } from './dom.js';

let playing: HTMLAudioElement | null = null;

/** Replays stored audio in this tab: fetched with the key (a plain link would not carry it), then played. */
export async function replayHistory(api: Api, id: string): Promise<HTMLAudioElement> {
  const blob = await api.historyAudio(id);
  return playBlob(blob);
}

export async function playBlob(blob: Blob): Promise<HTMLAudioElement> {
  stopReplay();
  const url = URL.createObjectURL(blob);
  const audio = new Audio(url);
  audio.addEventListener('ended', () => URL.revokeObjectURL(url));
  playing = audio;
  await audio.play();
  return audio;
}

/** Plays audio by URL (a voice's hosted sample); rejects when the page may not load it. */
export async function playUrl(url: string): Promise<HTMLAudioElement> {
  stopReplay();
  const audio = new Audio(url);
  playing = audio;
  await audio.play();
  return audio;
}

export function stopReplay(): void {
  playing?.pause();
  playing = null;
}

/**
 * Saves a history item's audio as a file; returns the file name the browser was given.
 * WAV plays anywhere; Opus is the stored file itself, about a tenth of the size.
 */
export async function downloadHistory(api: Api, id: string, format: 'wav' | 'opus' = 'wav'): Promise<string> {
  const filename = `earshot-${id}.${format}`;
  downloadBlob(await api.historyAudio(id, format), filename);
  return filename;
}
