import { Agent, request } from 'node:http';
import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';

/**
 * MCP tool calls as Streamable HTTP carries them — one JSON-RPC POST to /mcp with the key and the protocol
 * version header — sent with the same plain keep-alive HTTP client as the floor relay's calls. Earshot is
 * stateless, so a call needs no initialize first. Why not the official SDK client: its own CPU (schemas,
 * fetch) runs on the load generator's CPU beside the stand-in, so it would slow Earshot's measured path
 * and not the floor's, and at 200 speakers the clients would be part of what is measured. Scenario d
 * reports the SDK client's call beside this one, so the client's share stays visible.
 *
 * `revision`: `legacy` sends what a 2025 client sends after initialize (the latest 2025 revision's header; the
 * server serves it by its stateless fallback); `modern` sends a 2026-07-28 request (the revision's headers and
 * the per-request `_meta` envelope, which needs no initialize either), as the v2 SDK client pinned to it does.
 */
export class McpHttpClient {
  private nextId = 1;

  constructor(
    private readonly url: string,
    private readonly key: string,
    private readonly agent: Agent,
    private readonly revision: 'legacy' | 'modern' = 'legacy',
  ) {}

  /** Resolves with the tool's structured result once the whole answer has arrived; throws on any error. */
  async callTool(name: string, args: Record<string, unknown>, timeoutMs: number): Promise<unknown> {
    const id = this.nextId++;
    const modern = this.revision === 'modern';
    const body = JSON.stringify({
      jsonrpc: '2.0',
      id,
      method: 'tools/call',
      params: { name, arguments: args, ...(modern ? { _meta: MODERN_META } : {}) },
    });
    const headers: Record<string, string> = modern
      ? { 'mcp-protocol-version': MODERN_REVISION, 'mcp-method': 'tools/call', 'mcp-name': name }
      : { 'mcp-protocol-version': LATEST_PROTOCOL_VERSION };
    const answer = await this.post(body, headers, timeoutMs);
    if (answer.status !== 200) throw new Error(`${name}: HTTP ${answer.status} ${answer.text.slice(0, 300)}`);
    const message = answer.contentType.includes('text/event-stream')
      ? findEvent(answer.text, id)
      : (JSON.parse(answer.text) as JsonRpcMessage);
    if (!message) throw new Error(`${name}: no answer with id ${id} in ${answer.text.slice(0, 300)}`);
    if (message.error) throw new Error(`${name}: JSON-RPC error ${JSON.stringify(message.error)}`);
    if (message.result?.isError)
      throw new Error(`${name} failed: ${JSON.stringify(message.result.content).slice(0, 300)}`);
    return message.result?.structuredContent;
  }

  private post(
    body: string,
    revisionHeaders: Record<string, string>,
    timeoutMs: number,
  ): Promise<{ status: number; contentType: string; text: string }> {
    return new Promise((resolve, reject) => {
      const call = request(
        `${this.url}/mcp`,
        {
          method: 'POST',
          agent: this.agent,
          timeout: timeoutMs,
          headers: {
            authorization: `Bearer ${this.key}`,
            accept: 'application/json, text/event-stream',
            'content-type': 'application/json',
            ...revisionHeaders,
          },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (part: string) => (text += part));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, contentType: res.headers['content-type'] ?? '', text }),
          );
          res.on('error', reject);
        },
      );
      call.on('timeout', () => call.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      call.on('error', reject);
      call.end(body);
    });
  }
}

const MODERN_REVISION = '2026-07-28';
/** The per-request envelope a 2026-07-28 request carries in place of initialize. */
const MODERN_META = {
  'io.modelcontextprotocol/protocolVersion': MODERN_REVISION,
  'io.modelcontextprotocol/clientInfo': { name: 'earshot-bench', version: '1.0.0' },
  'io.modelcontextprotocol/clientCapabilities': {},
};

interface JsonRpcMessage {
  id?: unknown;
  error?: unknown;
  result?: { isError?: boolean; content?: unknown; structuredContent?: unknown };
}

/** The SSE event carrying the answer to `id` (others may be notifications: logging, progress). */
function findEvent(text: string, id: number): JsonRpcMessage | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith('data:')) continue;
    try {
      const message = JSON.parse(line.slice(5)) as JsonRpcMessage;
      if (message.id === id) return message;
    } catch {
      // Not JSON: not ours.
    }
  }
  return undefined;
}
