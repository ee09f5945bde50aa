import type { ToolInfo, World } from './gen/index.js';
import type { Target } from './target.js';

/**
 * Reads what the generators may rely on from the server itself: its tools (so every tool the server lists
 * is fuzzed, including ones added later), voices and models. Read as the real user, before any fuzzing.
 */
export async function discoverWorld(target: Target, engine: World['engine']): Promise<World> {
  const list = await target.request('POST', '/mcp', { jsonrpc: '2.0', id: 1, method: 'tools/list' });
  const data = list.body
    .toString('utf8')
    .split('\n')
    .find((line) => line.startsWith('data: '));
  const tools = data
    ? ((JSON.parse(data.slice(6)) as { result?: { tools?: ToolInfo[] } }).result?.tools ?? [])
    : [];
  if (tools.length === 0)
    throw new Error(
      `tools/list answered nothing usable: ${list.status} ${list.body.toString().slice(0, 200)}`,
    );
  const voices = JSON.parse((await target.request('GET', '/api/v1/voices')).body.toString('utf8')) as {
    voices?: { id: string; name: string }[];
  };
  const models = JSON.parse((await target.request('GET', '/api/v1/models')).body.toString('utf8')) as {
    models?: { id: string }[];
  };
  return {
    engine,
    tools: tools.map((tool) => ({ name: tool.name, inputSchema: tool.inputSchema })),
    voices: (voices.voices ?? []).slice(0, 20).map((voice) => ({ id: voice.id, name: voice.name })),
    models: (models.models ?? []).map((model) => model.id),
  };
}
