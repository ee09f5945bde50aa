import type { ToolSet } from '../tool-set.js';
import { z } from 'zod';
import type { Subscription } from '../../engines/index.js';
import type { ToolDeps } from '../context.js';
import { guarded, ok } from '../results.js';

export const GET_USAGE_TOOL = 'get_usage';

export function registerGetUsageTool(tools: ToolSet, deps: ToolDeps): void {
  tools.define(
    GET_USAGE_TOOL,
    {
      title: 'Get usage and credits',
      description:
        'Show what this user spoke today and over recent days, the daily budget left, and the ElevenLabs ' +
        "account's credits used, limit and reset date. Use it before long speech or when the user asks about " +
        'cost. Free.',
      inputSchema: {
        days: z.number().int().min(1).max(90).optional().describe('Days of history (default 7).'),
      },
      outputSchema: {
        today: z.object({ date: z.string(), characters: z.number(), credits: z.number() }),
        days: z.array(z.object({ date: z.string(), characters: z.number(), credits: z.number() })),
        budget: z.object({
          limit: z.number().nullable(),
          remaining: z.number().nullable(),
          resetsAt: z.string(),
        }),
        account: z
          .object({
            tier: z.string(),
            creditsUsed: z.number(),
            creditLimit: z.number(),
            resetsAt: z.string().nullable(),
          })
          .nullable()
          .describe('The ElevenLabs subscription; null offline or when it could not be read.'),
        accountError: z.string().optional(),
      },
      annotations: { readOnlyHint: true, openWorldHint: deps.engineName === 'elevenlabs' },
      answersAtOnce: true,
    },
    (args, call) =>
      guarded(async () => {
        const days = (await deps.store.getUsage(call.user, args.days ?? 7)).map(
          ({ date, characters, credits }) => ({ date, characters, credits }),
        );
        const today = days[days.length - 1]!;
        const budget = await deps.speech.budgetStatus(call.user);
        let account: Subscription | null = null;
        let accountError: string | undefined;
        if (deps.engine.getSubscription) {
          try {
            account = await deps.engine.getSubscription();
          } catch (error) {
            accountError = error instanceof Error ? error.message : String(error);
          }
        }
        const lines = [
          `Today: ${today.characters} characters, ${today.credits} credits.`,
          budget.limit === null
            ? 'No daily character budget is set.'
            : `Daily budget: ${budget.remaining} of ${budget.limit} characters left; resets ${budget.resetsAt}.`,
          account
            ? `ElevenLabs (${account.tier}): ${account.creditsUsed} of ${account.creditLimit} credits used` +
              (account.resetsAt ? `; resets ${account.resetsAt}.` : '.')
            : accountError
              ? `ElevenLabs account: could not be read (${accountError}).`
              : 'Offline voice: no account, no credits.',
        ];
        return ok(lines.join('\n'), {
          today,
          days,
          budget: { limit: budget.limit, remaining: budget.remaining, resetsAt: budget.resetsAt },
          account,
          ...(accountError ? { accountError } : {}),
        });
      }),
  );
}
