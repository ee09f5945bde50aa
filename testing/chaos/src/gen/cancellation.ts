import type { UserName } from '../keys.js';
import type { HttpInput } from '../inputs.js';
import type { Rng } from '../prng.js';
import { pickUser, pickVoice, REQUEST_DEADLINE_MS, SPEECH_DEADLINE_MS, type World } from './common.js';
import { speechText } from './values.js';

/**
 * A speech call that is cancelled while it runs: by a `notifications/cancelled` from the same user (or,
 * sometimes, another user, which must not cancel it), or by the client hanging up.
 */
export function cancellation(rng: Rng, world: World, base: HttpInput, user: UserName): HttpInput {
  const id = rng.int(1, 1_000_000);
  const text = Array.from({ length: rng.int(3, 10) }, () => speechText(rng))
    .join(' ')
    .slice(0, 1500);
  const call = JSON.stringify({
    jsonrpc: '2.0',
    id,
    method: 'tools/call',
    params: {
      name: rng.pick(['speak', 'text_to_speech']),
      arguments: { text, fresh: true, voice: pickVoice(rng, world) },
    },
  });
  const afterMs = rng.int(0, 600);
  if (rng.chance(0.4)) {
    return {
      ...base,
      label: 'mcp speak, client hangs up',
      body: call,
      abortAfterMs: afterMs,
      deadlineMs: SPEECH_DEADLINE_MS,
    };
  }
  const canceller = rng.chance(0.8) ? user : pickUser(rng);
  const cancel = JSON.stringify({
    jsonrpc: '2.0',
    method: 'notifications/cancelled',
    params: { requestId: rng.chance(0.9) ? id : String(id), reason: 'chaos' },
  });
  return {
    ...base,
    label: `mcp speak, cancelled by ${canceller === user ? 'its user' : 'another user'}`,
    body: call,
    deadlineMs: SPEECH_DEADLINE_MS,
    followUp: {
      afterMs,
      input: {
        ...base,
        label: 'mcp notifications/cancelled',
        user: canceller,
        headers: [
          ['Authorization', `Bearer {{key:${canceller}}}`],
          ['Accept', 'application/json, text/event-stream'],
          ['Content-Type', 'application/json'],
        ],
        body: cancel,
        deadlineMs: REQUEST_DEADLINE_MS,
      },
    },
  };
}
