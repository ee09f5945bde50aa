import type { ClientMessage } from '@earshot/protocol';
import { z } from 'zod';

/** What players may send on /ws, checked before anything acts on it. */
export const ClientMessageSchema: z.ZodType<ClientMessage> = z.discriminatedUnion('type', [
  z.object({ type: z.literal('stop') }),
  z.object({ type: z.literal('played'), id: z.string().max(64) }),
  z.object({ type: z.literal('ping') }),
  z.object({
    type: z.literal('state'),
    audio: z.enum(['on', 'off']).optional(),
    accept: z.array(z.string().max(100)).max(16).optional(),
  }),
]);
