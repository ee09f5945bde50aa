import type { Usage } from '@earshot/protocol';
import { h, replace, statusLine, svg } from '../dom.js';
import type { ConsoleContext, View } from '../context.js';

const WIDTH = 600;
const HEIGHT = 160;

/** Characters per day as an inline SVG bar chart, or a line saying there is nothing to chart yet. */
function chart(usage: Usage): Element {
  // With no data a chart only shows a scale made up to avoid dividing by zero ("max 1 characters/day").
  if (usage.days.every((day) => day.characters === 0)) {
    return h(
      'p',
      { className: 'hint', id: 'usage-chart-empty' },
      `Nothing spoken in the last ${usage.days.length} days.`,
    );
  }
  const max = Math.max(1, ...usage.days.map((day) => day.characters));
  const barWidth = WIDTH / Math.max(1, usage.days.length);
  const bars = usage.days.map((day, index) => {
    const height = Math.round((day.characters / max) * (HEIGHT - 20));
    const bar = svg('rect', {
      x: (index * barWidth + 1).toFixed(1),
      y: HEIGHT - height,
      width: Math.max(1, barWidth - 2).toFixed(1),
      height: Math.max(height, day.characters ? 1 : 0),
      class: 'bar',
    });
    bar.appendChild(
      svg(
        'title',
        {},
        document.createTextNode(`${day.date}: ${day.characters} characters, ${day.credits} credits`),
      ),
    );
    return bar;
  });
  const label = svg(
    'text',
    { x: 4, y: 14, class: 'axis' },
    document.createTextNode(`max ${max} characters/day`),
  );
  const axis = (x: number, anchor: string, text: string) =>
    svg('text', { x, y: HEIGHT + 15, class: 'axis', 'text-anchor': anchor }, document.createTextNode(text));
  const element = svg(
    'svg',
    {
      viewBox: `0 0 ${WIDTH} ${HEIGHT + 20}`,
      class: 'chart',
      role: 'img',
      'aria-label': `Characters per day over the last ${usage.days.length} days`,
    },
    svg('line', { x1: 0, x2: WIDTH, y1: HEIGHT - 0.5, y2: HEIGHT - 0.5, class: 'baseline' }),
    ...bars,
    label,
    axis(2, 'start', usage.days[0]?.date ?? ''),
    axis(WIDTH - 2, 'end', 'today'),
  );
  return element;
}

/** Today's characters against the daily budget, as a meter, with when it resets. */
function budget(usage: Usage): HTMLElement {
  if (usage.limit === null || usage.limit === undefined) {
    // Nothing to reset without a budget: saying when it resets would suggest there is one.
    return h(
      'p',
      { className: 'hint', id: 'usage-budget' },
      'No daily character budget (set one in Settings).',
    );
  }
  const resets = new Date(usage.resetsAt);
  const when = `resets ${resets.toLocaleString([], { weekday: 'short', hour: '2-digit', minute: '2-digit' })}`;
  const used = usage.limit - (usage.remaining ?? 0);
  return h(
    'div',
    { className: 'budget', id: 'usage-budget' },
    h(
      'label',
      { htmlFor: 'usage-budget-meter' },
      `Daily budget: ${used} of ${usage.limit} characters used · ${when}`,
    ),
    h('meter', {
      id: 'usage-budget-meter',
      min: 0,
      max: usage.limit,
      value: used,
      high: usage.limit * 0.8,
      optimum: 0,
    }),
  );
}

/** The ElevenLabs account: credits used against the plan's limit, and when they reset. */
function account(usage: Usage): HTMLElement {
  const acct = usage.account;
  if (!acct) {
    return h(
      'p',
      { className: 'hint', id: 'usage-account' },
      'Offline voice: no ElevenLabs account, no credits.',
    );
  }
  const resets = acct.resetsAt ? ` · resets ${new Date(acct.resetsAt).toLocaleDateString()}` : '';
  return h(
    'div',
    { className: 'budget', id: 'usage-account' },
    h(
      'label',
      { htmlFor: 'usage-account-meter' },
      `ElevenLabs ${acct.tier}: ${acct.creditsUsed} of ${acct.creditLimit} credits used${resets}`,
    ),
    h('meter', {
      id: 'usage-account-meter',
      min: 0,
      max: acct.creditLimit,
      value: acct.creditsUsed,
      high: acct.creditLimit * 0.8,
      optimum: 0,
    }),
  );
}

/** Audio kept for this user, against their quota, and how long it is kept. */
function storedAudio(usage: Usage): HTMLElement[] {
  if (!usage.audio) return [];
  const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  const { bytes, quotaBytes, retentionDays } = usage.audio;
  return [
    h(
      'div',
      {},
      h('dt', {}, 'Stored audio'),
      h('dd', { id: 'usage-audio' }, quotaBytes === null ? mb(bytes) : `${mb(bytes)} of ${mb(quotaBytes)}`),
    ),
    h(
      'div',
      {},
      h('dt', {}, 'Kept for'),
      h('dd', {}, retentionDays === null ? 'until deleted' : `${retentionDays} days`),
    ),
  ];
}

/** The days with speech as a table, for screen readers and exact figures; nothing when there are none. */
function table(usage: Usage): HTMLElement | null {
  const spoken = usage.days.filter((day) => day.characters > 0);
  if (spoken.length === 0) return null;
  return h(
    'details',
    {},
    h('summary', {}, 'As a table'),
    h(
      'table',
      {},
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          h('th', { scope: 'col' }, 'Date'),
          h('th', { scope: 'col' }, 'Characters'),
          h('th', { scope: 'col' }, 'Credits'),
        ),
      ),
      h(
        'tbody',
        {},
        ...spoken.map((day) =>
          h(
            'tr',
            {},
            h('td', {}, day.date),
            h('td', {}, String(day.characters)),
            h('td', {}, String(day.credits)),
          ),
        ),
      ),
    ),
  );
}

/** Today's characters and credits against the budget, and the last 30 days. */
export function usageView(ctx: ConsoleContext): View {
  const body = h('div', { className: 'stack' });
  const status = statusLine();

  let failed = false;
  async function load(): Promise<void> {
    try {
      const usage = await ctx.api.usage(30);
      const total = usage.days.reduce(
        (sum, day) => ({ characters: sum.characters + day.characters, credits: sum.credits + day.credits }),
        {
          characters: 0,
          credits: 0,
        },
      );
      replace(
        body,
        account(usage),
        budget(usage),
        h(
          'dl',
          { className: 'stats' },
          h(
            'div',
            {},
            h('dt', {}, 'Today, characters'),
            h('dd', { id: 'usage-today-chars' }, String(usage.today.characters)),
          ),
          h('div', {}, h('dt', {}, 'Today, credits'), h('dd', {}, String(usage.today.credits))),
          h('div', {}, h('dt', {}, '30 days, characters'), h('dd', {}, String(total.characters))),
          h('div', {}, h('dt', {}, '30 days, credits'), h('dd', {}, String(total.credits))),
          ...storedAudio(usage),
        ),
        h('h3', {}, 'Characters per day'),
        chart(usage),
        table(usage),
      );
      status.textContent = '';
      failed = false;
    } catch (error) {
      failed = true;
      status.textContent = `Could not load usage: ${(error as Error).message}`;
    }
  }

  const element = h(
    'section',
    { 'aria-labelledby': 'usage-title' },
    h('h2', { id: 'usage-title' }, 'Usage'),
    h(
      'p',
      { className: 'hint' },
      'Characters spoken for you and the ElevenLabs credits they cost (offline speech is free).',
    ),
    status,
    body,
  );
  return {
    id: 'usage',
    title: 'Usage',
    element,
    show: () => void load(),
    recover: () => failed && void load(),
  };
}
