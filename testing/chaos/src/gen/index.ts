import type { FuzzInput } from '../inputs.js';
import { Rng } from '../prng.js';
import type { World } from './common.js';
import { mcpInput } from './mcp.js';
import { publicInput } from './misc.js';
import { restInput } from './rest.js';
import { wsInput } from './ws.js';

export type { World, ToolInfo } from './common.js';

/**
 * Fuzz input `index` of the run with `seed`: a pure function of (seed, index, world), so `--replay`
 * regenerates exactly the input that failed. REST and MCP carry most weight (they reach the speech
 * pipeline); player sessions and public paths the rest.
 */
export function generateInput(seed: number, index: number, world: World): FuzzInput {
  const rng = Rng.for(seed, index);
  return rng.weighted<(r: Rng, w: World) => FuzzInput>([
    [40, restInput],
    [40, mcpInput],
    [12, wsInput],
    [8, publicInput],
  ])(rng, world);
}
