import { inspectHttp, type Inspection } from './classify.js';
import { sendRaw } from './http-raw.js';
import { resolveTemplate, type HttpInput, type TemplateContext } from './inputs.js';
import { sleep } from './target.js';

/** Sends an HTTP input (and its follow-up, such as a cancellation) and classifies the answers. */
export function resolveHeaders(headers: HttpInput['headers'], context: TemplateContext): [string, string][] {
  return headers.map(([name, value]) => [name, resolveTemplate(value, context)]);
}

export async function runHttp(
  input: HttpInput,
  context: TemplateContext,
  inspection: Inspection,
): Promise<void> {
  const send = (request: HttpInput) => {
    const path = resolveTemplate(request.path, context);
    const body =
      typeof request.body === 'string'
        ? Buffer.from(resolveTemplate(request.body, context), 'utf8')
        : request.body;
    return sendRaw(context.port, {
      method: request.method,
      path,
      headers: resolveHeaders(request.headers, context),
      ...(body === undefined ? {} : { body }),
      deadlineMs: request.deadlineMs,
      ...(request.abortAfterMs === undefined ? {} : { abortAfterMs: request.abortAfterMs }),
      ...tag(inspection),
    }).then((response) => ({ response, path }));
  };
  const followUp = input.followUp;
  const follow = followUp ? sleep(followUp.afterMs).then(() => send(followUp.input)) : undefined;
  const { response, path } = await send(input);
  inspectHttp(
    inspection,
    { method: input.method, path, channel: input.channel, foreignOrigin: input.foreignOrigin ?? false },
    response,
  );
  if (follow && followUp) {
    const answer = await follow;
    inspectHttp(
      inspection,
      { method: followUp.input.method, path: answer.path, channel: followUp.input.channel },
      answer.response,
    );
  }
}

export function tag(inspection: Inspection): { tag?: string } {
  return inspection.input === undefined
    ? {}
    : { tag: `input ${inspection.index ?? '?'}: ${inspection.input.slice(0, 160)}` };
}

export function where(inspection: Inspection): { index?: number; input?: string } {
  return {
    ...(inspection.index === undefined ? {} : { index: inspection.index }),
    ...(inspection.input === undefined ? {} : { input: inspection.input }),
  };
}
