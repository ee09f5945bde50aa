/** Small clients for proxy tests: a player WebSocket speaking Earshot's subprotocol, and JSON over HTTP(S). */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import WebSocket from 'ws';

export interface Hello {
  readonly type: string;
  readonly backend: string;
  readonly key: string;
  readonly headers?: Record<string, string | undefined>;
}

export function playerProtocols(key: string): string[] {
  return ['earshot.v1', `bearer.${Buffer.from(key, 'utf8').toString('base64url')}`];
}

/** Opens a player socket and resolves with it and its first (hello) message. */
export async function openPlayer(
  url: string,
  key: string,
  options: WebSocket.ClientOptions = {},
): Promise<{ readonly socket: WebSocket; readonly hello: Hello }> {
  return openSocket(url, playerProtocols(key), options);
}

/** A WebSocket offering these subprotocols (e.g. an in-chat player's `speech-token.…`), resolved at its hello. */
export async function openSocket(
  url: string,
  protocols: string[],
  options: WebSocket.ClientOptions = {},
): Promise<{ readonly socket: WebSocket; readonly hello: Hello }> {
  const socket = new WebSocket(url, protocols, options);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.terminate();
      reject(new Error(`no hello from ${url} within 5 s`));
    }, 5_000);
    socket.once('unexpected-response', (_request, response) => {
      clearTimeout(timer);
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => reject(new UnexpectedResponse(response.statusCode ?? 0, body)));
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.once('message', (data) => {
      clearTimeout(timer);
      resolve({ socket, hello: JSON.parse((data as Buffer).toString()) as Hello });
    });
  });
}

export class UnexpectedResponse extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(`unexpected response ${status}: ${body}`);
  }
}

export interface RawResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/** A plain request (no redirects followed, any TLS options), for checks fetch cannot make. */
export async function rawRequest(
  url: string,
  init: {
    method?: string;
    headers?: Record<string, string>;
    body?: Buffer | string;
    ca?: string;
    servername?: string;
  } = {},
): Promise<RawResponse> {
  const target = new URL(url);
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const request = send(
      target,
      {
        method: init.method ?? 'GET',
        headers: init.headers,
        ...(init.ca === undefined ? {} : { ca: init.ca }),
        ...(init.servername === undefined ? {} : { servername: init.servername }),
        timeout: 5_000,
      },
      (response) => {
        let body = '';
        response.on('data', (chunk: Buffer) => (body += chunk.toString()));
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, headers: response.headers, body }),
        );
      },
    );
    request.on('timeout', () => request.destroy(new Error(`${url} timed out`)));
    request.on('error', reject);
    request.end(init.body);
  });
}
