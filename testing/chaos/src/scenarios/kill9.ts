import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { REAL_USER } from '../keys.js';
import { makeTempDir, removeTempDir } from '../temp-dirs.js';
import { Player } from '../player.js';
import { Tally, type ScenarioSummary } from '../tally.js';
import { sleep, Target } from '../target.js';
import type { SuiteContext } from './context.js';

/** Long enough that audio is still streaming (and being written) when the kill lands. */
const LONG_TEXT = Array.from(
  { length: 24 },
  (_, i) => `Sentence ${i + 1} of a long status report that keeps the voice busy for a while.`,
).join(' ');

/**
 * kill -9 while speech streams to a player and its audio is being written, then a restart on the same data
 * directory: it must start, be ready, list and serve history (partial files included) without a 5xx, and
 * speak again. Each round kills at a different moment: at the first audio frame, a little later, and
 * while a settings write races the speech.
 */
export async function runKill9(suite: SuiteContext): Promise<ScenarioSummary> {
  const tally = new Tally('kill-9');
  const dataDir = makeTempDir('earshot-chaos-kill-');
  let target: Target | undefined;
  let player: Player | undefined;
  try {
    target = await Target.start({ keys: suite.keys, scanner: suite.scanner, env: {}, dataDir });
    tally.rssBeforeKiB = target.sample()?.rssKiB ?? null;
    for (let round = 0; round < suite.kills; round++) {
      player = await Player.connect(target.url, suite.keys.byUser[REAL_USER]);
      // A finished speech first, so there is complete history to survive the kill.
      const done = await target.realSpeak(`Round ${round + 1} begins.`, 'rest', 30_000);
      target.inspect(tally, 'speech before the kill', 'POST', '/api/v1/speak', done.response);
      const audio = player.nextAudio(20_000);
      const speaking = target.realSpeak(`${LONG_TEXT} Round ${round + 1}.`, 'rest', 60_000);
      tally.inputs += 2;
      if (!(await audio)) {
        tally.find('hang', `round ${round + 1}: no audio reached the player within 20 s`);
        break;
      }
      if (round % 3 === 1) await sleep(150 + 100 * round);
      if (round % 3 === 2) {
        void target.request('PUT', '/api/v1/settings', { voiceSettings: { speed: 1.1 }, autoPlay: true });
        await sleep(5);
      }
      tally.rssBeforeKiB = target.sample()?.rssKiB ?? tally.rssBeforeKiB;
      await target.server.kill('SIGKILL');
      await speaking; // Its connection was cut: a reset, which is what a client sees when a server dies.
      player.close();

      const started = performance.now();
      try {
        await target.restart();
      } catch (error) {
        tally.find(
          'crash',
          `round ${round + 1}: the server did not start again on the same data: ${String(error).slice(0, 300)}`,
        );
        break;
      }
      const restartMs = Math.round(performance.now() - started);
      const cleaned = await startupMaintenance(target);
      const left = await orphans(target, dataDir);
      tally.note(`round ${round + 1}: restarted in ${restartMs} ms; ${cleaned}; ${left.summary}`);
      // The start-up housekeeping removes what the kill left (a clip still being written): none may stay.
      if (left.orphans.length > 0) {
        tally.find('leak', `round ${round + 1}: audio files no history item refers to after the restart`, {
          response: left.orphans.join(', '),
        });
      }
      await checkAfterRestart(target, tally, round + 1);
      player = await Player.connect(target.url, suite.keys.byUser[REAL_USER]);
      const heard = player.waitFor((m) => m.type === 'speech.end', 30_000);
      const speech = await target.realSpeak(`Back after kill ${round + 1}.`, 'rest', 30_000);
      target.inspect(tally, 'speech after the restart', 'POST', '/api/v1/speak', speech.response);
      tally.inputs++;
      if (!speech.ok)
        tally.find('hang', `round ${round + 1}: speech after the restart failed: ${speech.detail}`);
      else if (!(await heard))
        tally.find('hang', `round ${round + 1}: the player heard nothing after the restart`);
      player.close();
      player = undefined;
    }
    tally.rssAfterKiB = target.sample()?.rssKiB ?? null;
  } catch (error) {
    tally.fail(
      target?.server.alive === false,
      `kill -9 scenario could not proceed: ${String(error).slice(0, 500)}`,
    );
  } finally {
    player?.close();
    if (target) await target.stop(tally);
    removeTempDir(dataDir);
    tally.end();
  }
  return tally.summary();
}

async function checkAfterRestart(target: Target, tally: Tally, round: number): Promise<void> {
  const ready = await target.request('GET', '/readyz');
  target.inspect(tally, 'readyz after restart', 'GET', '/readyz', ready);
  tally.inputs++;
  if (ready.status !== 200)
    tally.find('5xx', `round ${round}: /readyz answered ${ready.status} after the restart`);

  const list = await target.request('GET', '/api/v1/history?limit=200');
  target.inspect(tally, 'history after restart', 'GET', '/api/v1/history', list);
  tally.inputs++;
  const items =
    (JSON.parse(list.body.toString('utf8') || '{}') as { items?: { id: string; status: string }[] }).items ??
    [];
  tally.note(
    `round ${round}: history lists ${items.length} items (${items.map((item) => item.status).join(', ')})`,
  );
  for (const item of items) {
    for (const path of [`/api/v1/history/${item.id}`, `/api/v1/history/${item.id}/audio`]) {
      const response = await target.request('GET', path);
      target.inspect(tally, `history item after restart`, 'GET', path, response);
      tally.inputs++;
    }
  }
  const mcp = await target.request('POST', '/mcp', {
    jsonrpc: '2.0',
    id: 2,
    method: 'tools/call',
    params: { name: 'list_history', arguments: {} },
  });
  inspectMcp(target, tally, mcp);
  const usage = await target.request('GET', '/api/v1/usage');
  target.inspect(tally, 'usage after restart', 'GET', '/api/v1/usage', usage);
  tally.inputs += 2;
}

function inspectMcp(target: Target, tally: Tally, response: Awaited<ReturnType<Target['request']>>): void {
  target.inspect(tally, 'list_history after restart', 'POST', '/mcp', response);
  if (/"isError"\s*:\s*true/.test(response.body.toString('utf8'))) {
    tally.note(
      `list_history after restart answered an error: ${response.body.toString('utf8').slice(0, 200)}`,
    );
  }
}

/** Waits (bounded) for the store's start-up housekeeping and says what it removed. */
async function startupMaintenance(target: Target): Promise<string> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const line = target.server.logs().find((entry) => entry.msg === 'store maintenance done');
    if (line)
      return `start-up housekeeping removed ${String(line.temporaryFiles)} unfinished and ${String(line.orphanFiles)} orphan audio files`;
    if (Date.now() > deadline || !target.server.alive) return 'no start-up housekeeping logged';
    await sleep(20);
  }
}

/**
 * Audio files no listed history item refers to (a clip the kill cut, under its temporary name, or a file
 * whose record was never written), read from the data folder and the history the server lists.
 */
async function orphans(target: Target, dataDir: string): Promise<{ summary: string; orphans: string[] }> {
  const root = join(dataDir, 'audio');
  if (!existsSync(root)) return { summary: 'no audio yet', orphans: [] };
  const files = readdirSync(root).flatMap((user) =>
    readdirSync(join(root, user)).map((name) => `${user}/${name}`),
  );
  const listed = new Set<string>();
  let cursor: string | null = null;
  do {
    const query: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
    const page = await target.request('GET', `/api/v1/history?limit=200${query}`);
    const body = JSON.parse(page.body.toString('utf8') || '{}') as {
      items?: { id: string; audio: unknown }[];
      nextCursor?: string | null;
    };
    for (const item of body.items ?? []) if (item.audio) listed.add(`${REAL_USER}/${item.id}.audio`);
    cursor = body.nextCursor ?? null;
  } while (cursor);
  const orphaned = files.filter((file) => !listed.has(file));
  return {
    summary: `${files.length} audio files on disk, ${orphaned.length} without a history item`,
    orphans: orphaned,
  };
}
