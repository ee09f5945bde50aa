// A real `earshot serve` with its data folder on a small tmpfs that fills up, speaking through the ElevenLabs
// stand-in (so "spent" is counted): speech that would spend is refused before anything is spent, /readyz
// says why, what is stored stays readable, and it all works again once there is room.
import { startStandin, type Standin } from '@earshot/elevenlabs-standin';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EarshotProcess, KEYS } from './support/earshot-process.js';
import { connectMcp, textOf } from './support/mcp.js';
import { fill, smallDisk, type SmallDisk } from './support/tmpfs.js';

const UPSTREAM_KEY = 'full-disk-upstream-key';

interface ErrorBody {
  readonly error: { readonly code: string; readonly message: string };
}

describe('the data folder on a full disk', () => {
  let disk: SmallDisk | string;
  let standin: Standin;
  let server: EarshotProcess | undefined;

  beforeAll(async () => {
    disk = smallDisk();
    if (typeof disk === 'string') {
      console.warn(`full-disk test: ${disk}`);
      return;
    }
    standin = await startStandin({ apiKeys: [UPSTREAM_KEY] });
    server = await EarshotProcess.start(
      { EARSHOT_DATA_DIR: disk.dir, ELEVENLABS_API_KEY: UPSTREAM_KEY, ELEVENLABS_BASE_URL: standin.url },
      { wrapper: disk.wrapper },
    );
  });
  afterAll(async () => {
    await server?.stop();
    await standin?.close();
    if (typeof disk !== 'string') disk.cleanup();
  });

  it('refuses speech before spending (store_unavailable), reports it in /readyz, and recovers once freed', async (ctx) => {
    // Never a silent pass: a machine that cannot mount a tmpfs says so in the test's name in the report.
    if (typeof disk === 'string' || !server) return ctx.skip(typeof disk === 'string' ? disk : 'not run');
    const before = await server.speak('Said while there was room.');
    expect(before.status).toBe(200);
    const free = fill(disk.pathFromHere(server.pid));
    const spent = standin.usage;
    const usage = await server.usageToday();

    const refused = await server.speak('Said on a full disk, which must not be paid for.');
    expect(refused.status).toBe(503);
    expect((refused.body as unknown as ErrorBody).error).toMatchObject({
      code: 'store_unavailable',
      message: expect.stringMatching(/^Refused before anything was spent: .*full/),
    });
    const mcp = await connectMcp(server.url, KEYS.alice);
    const viaMcp = await mcp.callTool({
      name: 'speak',
      arguments: { text: 'Also on the full disk, through MCP.', fresh: true },
    });
    expect(viaMcp.isError).toBe(true);
    expect(textOf(viaMcp)).toMatch(/\[store_unavailable\]$/);
    await mcp.close();
    expect(standin.usage).toBe(spent);

    const ready = await fetch(`${server.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ status: 'not_ready', reason: 'store_full' });
    // What is stored stays readable: history, its audio, usage (which did not move).
    expect((await server.history()).map((item) => item.id)).toEqual([before.body.id]);
    const audio = await fetch(before.body.audioUrl!, { headers: { authorization: `Bearer ${KEYS.alice}` } });
    expect(audio.status).toBe(200);
    expect((await audio.arrayBuffer()).byteLength).toBe(Number(audio.headers.get('content-length')));
    expect(await server.usageToday()).toEqual(usage);
    const settings = await server.api<ErrorBody>('PUT', '/api/v1/settings', { autoPlay: false });
    expect([settings.status, settings.body.error.code]).toEqual([503, 'store_unavailable']);

    free();
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
    const after = await server.speak('Said once there was room again.');
    expect(after.status).toBe(200);
    expect(after.body.audioUrl).toEqual(expect.any(String));
    expect(standin.usage).toBeGreaterThan(spent);
  });
});
