/** Who a speech reached, as every tool that plays reports it. */
export interface Delivery {
  readonly playersReached: number;
  readonly playersListening: number;
}

export const playersReachedShape = 'Open players (browser tabs) the audio was sent to.';
export const playersListeningShape =
  'Of those, the players that reported audio on (enabled, not blocked by autoplay, not paused or muted). 0 means nobody heard it.';

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

/**
 * The sentence that leads a result when nobody heard the speech, with what the user must do; null when
 * someone listened. It comes first so an agent that reads only the start of the text cannot miss it.
 */
export function nobodyHeard(delivery: Delivery, playerUrl: string): string | null {
  if (delivery.playersListening > 0) return null;
  if (delivery.playersReached === 0) {
    return (
      `Nobody heard it: no Earshot player is open. Ask the user to open ${playerUrl} and click ` +
      '"Enable audio".'
    );
  }
  const open = count(delivery.playersReached, 'player');
  return (
    `Nobody heard it: ${open} ${delivery.playersReached === 1 ? 'is' : 'are'} open but none has audio on ` +
    "(not enabled yet, blocked by the browser's autoplay rule, paused or muted). Ask the user to click " +
    `"Enable audio" in the Earshot console (${playerUrl}), or to unpause or unmute it.`
  );
}

/** "to 2 listening players" / "to 1 of 3 players (listening)". */
export function listenersPhrase(delivery: Delivery): string {
  const listening = count(delivery.playersListening, 'listening player');
  return delivery.playersListening === delivery.playersReached
    ? listening
    : `${listening} (of ${delivery.playersReached} open)`;
}
