import type {
  CallToolResult,
  McpServer,
  ServerContext,
  StandardSchemaWithJSON,
  ToolAnnotations,
} from '@modelcontextprotocol/server';
import { z } from 'zod';
import { EarshotError } from '../errors.js';
import { failed, MESSAGE_FIELD, withLeadMessage } from './results.js';

/** Which protocol revision family a request speaks: 2026-07-28 ('modern') or a 2025 revision ('legacy'). */
export type ProtocolEra = 'legacy' | 'modern';

/** Who is calling and on what request: what a tool handler gets besides its arguments. */
export interface ToolCall {
  /** The authenticated user the call acts for. */
  readonly user: string;
  readonly era: ProtocolEra;
  /** The SDK's per-request context: request id, abort signal, `_meta`, notify. */
  readonly ctx: ServerContext;
}

/**
 * Work a tool began for one call as soon as its HTTP request was read, before the MCP SDK dispatched it (see
 * `ToolConfig.begin`). The handler of that call takes it over; a call never dispatched has it undone.
 */
export interface BegunCall {
  readonly tool: string;
  /** Set once the tool's handler has taken the work over. */
  readonly claimed: boolean;
  /** Undoes the work when no handler took it over (the SDK refused the request, the client left first). */
  abandon(): void;
}

/** What a tool's `begin` returns: its work in progress, and how to undo it. */
export interface BegunWork<W> {
  readonly work: W;
  readonly abandon: () => void;
}

/** The engines a server may run; a tool that needs one is not listed (nor callable) under another. */
export type EngineKind = 'elevenlabs' | 'offline';

/** Every tool with an outputSchema has it; installOn fills it from the text (see withLeadMessage). */
const messageField = z
  .string()
  .describe("The first line of the result's text: what to tell the user, e.g. that nobody heard it and why.");

interface ToolConfig<In extends z.ZodRawShape, Out extends z.ZodRawShape, W> {
  /**
   * `'elevenlabs'`: the tool only works with ElevenLabs, so a server on the offline engine does not define it
   * at all — a client cannot call what it cannot use, and `tools/list` does not offer it.
   */
  readonly requires?: 'elevenlabs';
  readonly title: string;
  readonly description: string;
  readonly inputSchema: In;
  readonly outputSchema?: Out;
  readonly annotations: ToolAnnotations;
  /** Tool metadata, e.g. MCP Apps' `ui.resourceUri`. */
  readonly _meta?: Record<string, unknown>;
  /**
   * The call is quick and sends no notifications (no progress, no log messages): a 2025 client gets its answer
   * as one JSON body rather than an SSE stream (see json-answer.ts).
   */
  readonly answersAtOnce?: true;
  /**
   * Starts the call's slow part (the upstream request of a speech) from its parsed arguments the moment the
   * HTTP request is read, so it is under way while the SDK builds the request's server and dispatches the call.
   * The handler then gets the work as `begun`; without it (stdio, a batch, arguments that fail the schema) the
   * handler does everything itself, so `begin` only ever makes a call start sooner, never changes what it does.
   */
  readonly begin?: (args: z.output<z.ZodObject<In>>, user: string) => BegunWork<W>;
  /**
   * With `begin`: a plain call's arguments recognised by hand, or undefined to let the schema parse them. A
   * begin is on the way to the first audio, where the schema's parse costs ~90 µs with cold caches. For what it
   * recognises it must give exactly what the schema gives (its tool's tests hold that against the schema).
   */
  readonly quickArgs?: (args: unknown) => z.output<z.ZodObject<In>> | undefined;
}

type ToolHandler<In extends z.ZodRawShape, W> = (
  args: z.output<z.ZodObject<In>>,
  call: ToolCall,
  begun: W | undefined,
) => Promise<CallToolResult>;

/** A call's begun work as the tool set tracks it: the parsed arguments ride along, so they are parsed once. */
class TrackedBegun implements BegunCall {
  claimed = false;
  private abandoned = false;

  constructor(
    readonly tool: string,
    readonly args: unknown,
    readonly work: unknown,
    private readonly undo: () => void,
  ) {}

  claim(): { args: unknown; work: unknown } {
    this.claimed = true;
    return { args: this.args, work: this.work };
  }

  abandon(): void {
    if (this.claimed || this.abandoned) return;
    this.abandoned = true;
    this.undo();
  }
}

interface ToolDefinition {
  readonly name: string;
  readonly config: {
    readonly title: string;
    readonly description: string;
    readonly inputSchema: StandardSchemaWithJSON;
    readonly outputSchema?: StandardSchemaWithJSON;
    readonly annotations: ToolAnnotations;
    readonly _meta?: Record<string, unknown>;
  };
  readonly handler: (args: unknown, call: ToolCall, begun?: TrackedBegun) => Promise<CallToolResult>;
  readonly begin?: (args: unknown, user: string) => TrackedBegun | undefined;
  readonly answersAtOnce: boolean;
}

/**
 * Earshot's tools, defined once per process. Stateless MCP serving builds an `McpServer` for every request (the
 * SDK binds one to each exchange); building each tool's zod schema and converting it to JSON Schema there cost
 * more CPU than the tool call itself. Here the schemas and their JSON Schema forms are made once, and
 * `installOn` only hands the SDK references.
 */
export class ToolSet {
  private readonly tools: ToolDefinition[] = [];
  private readonly skipped = new Set<string>();

  /** `engine`: the engine this process runs; tools that require another one are left out. */
  constructor(private readonly options: { readonly engine: EngineKind }) {}

  define<In extends z.ZodRawShape, Out extends z.ZodRawShape, W = never>(
    name: string,
    config: ToolConfig<In, Out, W>,
    handler: ToolHandler<In, W>,
  ): void {
    if (this.tools.some((tool) => tool.name === name) || this.skipped.has(name)) {
      throw new Error(`Tool ${name} is defined twice.`);
    }
    if (config.requires !== undefined && config.requires !== this.options.engine) {
      this.skipped.add(name);
      return;
    }
    const inputSchema = z.object(config.inputSchema);
    this.tools.push({
      name,
      config: {
        title: config.title,
        description: config.description,
        inputSchema: validatedByHandler(withJsonSchemaOnce(inputSchema)),
        ...(config.outputSchema && {
          outputSchema: withJsonSchemaOnce(
            z.object({ [MESSAGE_FIELD]: messageField, ...config.outputSchema }),
          ),
        }),
        annotations: config.annotations,
        ...(config._meta && { _meta: config._meta }),
      },
      // The SDK's own refusal of bad arguments is a bare message in a shape of its own; parsing here makes it
      // an `[invalid_input]` result like every other error, on every protocol revision.
      handler: async (args, call, begun) => {
        if (begun !== undefined) {
          const taken = begun.claim();
          return handler(taken.args as z.output<z.ZodObject<In>>, call, taken.work as W);
        }
        const parsed = await inputSchema.safeParseAsync(args ?? {});
        return parsed.success ? handler(parsed.data, call, undefined) : failed(argumentsError(parsed.error));
      },
      answersAtOnce: config.answersAtOnce === true,
      ...(config.begin && {
        begin: (args: unknown, user: string) => {
          // Arguments the schema refuses begin nothing: the handler answers them with the usual error.
          let data = config.quickArgs?.(args ?? {});
          if (data === undefined) {
            const parsed = inputSchema.safeParse(args ?? {});
            if (!parsed.success) return undefined;
            data = parsed.data;
          }
          const { work, abandon } = config.begin!(data, user);
          return new TrackedBegun(name, data, work, abandon);
        },
      }),
    });
  }

  /**
   * Begins a call of `tool` (see `ToolConfig.begin`) for `user`; undefined when the tool has no early part or
   * the arguments fail its schema. Hand the result to `installOn` for the same request.
   */
  begin(tool: string, args: unknown, user: string): BegunCall | undefined {
    return this.tools.find((definition) => definition.name === tool)?.begin?.(args, user);
  }

  /** Whether a call of `tool` is quick and sends no notifications (see `ToolConfig.answersAtOnce`). */
  answersAtOnce(tool: string): boolean {
    return this.tools.some((definition) => definition.name === tool && definition.answersAtOnce);
  }

  /** Whether `tool` is one of these tools. */
  has(tool: string): boolean {
    return this.tools.some((definition) => definition.name === tool);
  }

  /** Whether `tool` has an early part to begin (see `ToolConfig.begin`). */
  begins(tool: string): boolean {
    return this.tools.some((definition) => definition.name === tool && definition.begin !== undefined);
  }

  get names(): readonly string[] {
    return this.tools.map((tool) => tool.name);
  }

  /**
   * Registers the tools on a server that serves one request (or one stdio connection) for `user`: all of them,
   * or only `only` when the request is a call of that one tool (registering is most of a request's server cost).
   * `begun`: what `begin` started for this request's call; its tool's handler takes it over.
   */
  installOn(server: McpServer, user: string, era: ProtocolEra, only?: string, begun?: BegunCall): void {
    for (const tool of this.tools) {
      if (only !== undefined && tool.name !== only) continue;
      const own = begun instanceof TrackedBegun && begun.tool === tool.name ? begun : undefined;
      server.registerTool(tool.name, tool.config, async (args: unknown, ctx: ServerContext) =>
        withLeadMessage(await tool.handler(args, { user, era, ctx }, own)),
      );
    }
  }
}

/**
 * The schema as `tools/list` shows it, but accepting any arguments: the handler parses them (see `define`).
 */
function validatedByHandler<Input, Output>(
  schema: StandardSchemaWithJSON<Input, Output>,
): StandardSchemaWithJSON<Input, Output> {
  return {
    '~standard': {
      ...schema['~standard'],
      validate: (value: unknown) => ({ value: value as Output }),
    },
  };
}

/** "text: The text has 6000 characters…; voice: Invalid input: expected string" — at most three issues. */
function argumentsError(error: z.ZodError): EarshotError {
  const issues = error.issues.slice(0, 3).map((issue) => {
    const where = issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
    return `${where}${issue.message}`;
  });
  const more = error.issues.length > 3 ? ` (and ${error.issues.length - 3} more)` : '';
  const tooLong = error.issues.some((issue) => issue.code === 'too_big' && issue.path[0] === 'text');
  return new EarshotError(
    tooLong ? 'text_too_long' : 'invalid_input',
    `Invalid arguments: ${issues.join('; ')}${more}.`,
  );
}

/**
 * The same schema, with its JSON Schema conversion memoised: the SDK converts on every registration and every
 * `tools/list`, and zod converts from scratch each time. The memoised form is frozen, so anything that tried to
 * edit the shared copy would fail loudly instead of changing what the next request sees.
 */
export function withJsonSchemaOnce<Input, Output>(
  schema: StandardSchemaWithJSON<Input, Output>,
): StandardSchemaWithJSON<Input, Output> {
  const standard = schema['~standard'];
  const memo = new Map<string, Record<string, unknown>>();
  const convert =
    (io: 'input' | 'output') =>
    (options: Parameters<typeof standard.jsonSchema.input>[0]): Record<string, unknown> => {
      const key = `${io}\u0000${options.target}`;
      let json = memo.get(key);
      if (json === undefined) {
        json = deepFreeze(standard.jsonSchema[io](options));
        memo.set(key, json);
      }
      return json;
    };
  return {
    '~standard': {
      version: standard.version,
      vendor: standard.vendor,
      validate: standard.validate,
      ...(standard.types && { types: standard.types }),
      jsonSchema: { input: convert('input'), output: convert('output') },
    },
  };
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
