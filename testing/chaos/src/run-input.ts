import type { Inspection } from './classify.js';
import type { FuzzInput, TemplateContext } from './inputs.js';
import { runHttp } from './run-http.js';
import { runRawHandshake, runSession } from './run-ws.js';

/** Sends one fuzz input and classifies everything that comes back. Never throws for server behaviour. */
export async function runInput(
  input: FuzzInput,
  context: TemplateContext,
  inspection: Inspection,
): Promise<void> {
  if (input.kind === 'http') return runHttp(input, context, inspection);
  if (input.kind === 'ws') return runSession(input, context, inspection);
  return runRawHandshake(input, context, inspection);
}
