import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { build } from 'esbuild';

/**
 * A minimal MCP Apps host for browser tests: a page that renders an app's HTML in a sandboxed frame (scripts
 * only, so its origin is opaque, as hosts make it), applies the CSP the resource declares, and talks to it
 * through the ext-apps host bridge (`AppBridge` over `postMessage`). Tests relay tool results with
 * `sendResult`, as a host does after a tools/call.
 */
const HOST_SCRIPT = `
import { AppBridge, PostMessageTransport } from '@modelcontextprotocol/ext-apps/app-bridge';
const bridges = [];
window.openApp = async (html) => {
  const frame = document.createElement('iframe');
  frame.setAttribute('sandbox', 'allow-scripts');
  frame.title = 'app ' + bridges.length;
  frame.style.width = '560px';
  frame.style.height = '200px';
  document.body.append(frame);
  const bridge = new AppBridge(null, { name: 'earshot-test-host', version: '1.0.0' }, {});
  const initialized = new Promise((resolve) => (bridge.oninitialized = resolve));
  // Listening before the page loads: the app sends ui/initialize as soon as it runs.
  await bridge.connect(new PostMessageTransport(frame.contentWindow, frame.contentWindow));
  frame.srcdoc = html;
  await initialized;
  return bridges.push(bridge) - 1;
};
window.sendResult = async (index, args, result) => {
  await bridges[index].sendToolInput({ arguments: args });
  await bridges[index].sendToolResult(result);
};
`;

export interface AppHost {
  readonly url: string;
  close(): Promise<void>;
}

/** Serves the host page on `localhost` (a different origin from the server's `127.0.0.1`). */
export async function startAppHost(): Promise<AppHost> {
  const bundle = await build({
    stdin: { contents: HOST_SCRIPT, resolveDir: import.meta.dirname, loader: 'js' },
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    minify: true,
  });
  const script = bundle.outputFiles[0]!.text;
  const page = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Test host</title></head>
<body><script type="module">${script.replaceAll('</script', '<\\/script')}</script></body></html>`;
  const server: Server = createServer((_request, response) => {
    response.setHeader('content-type', 'text/html; charset=utf-8');
    response.end(page);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://localhost:${(server.address() as AddressInfo).port}/`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** The CSP a host derives from the resource's `_meta.ui.csp`, put at the top of the app's page. */
export function withDeclaredCsp(html: string, connectDomains: readonly string[]): string {
  const policy = [
    "default-src 'none'",
    "script-src 'unsafe-inline'",
    "style-src 'unsafe-inline'",
    `connect-src ${connectDomains.join(' ')}`,
  ].join('; ');
  return html.replace(/<head>/i, `<head><meta http-equiv="Content-Security-Policy" content="${policy}">`);
}
