// TLS termination with a domain: a self-signed certificate made for the test stands in for Let's Encrypt's.
import { readFile, mkdir, writeFile } from 'node:fs/promises';
import { connect } from 'node:tls';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPlayer, rawRequest } from '../src/proxy/testing/clients.js';
import { startEchoBackend, type EchoBackend } from '../src/proxy/testing/echo-backend.js';
import { startLocalNginx, type LocalNginx } from '../src/proxy/testing/local-nginx.js';

const domain = 'origin.api.earshot.test';
const publicHost = 'api.earshot.test';
let backend: EchoBackend;
let nginx: LocalNginx;
let ca: string;
let https: string;

beforeAll(async () => {
  backend = await startEchoBackend('tls');
  nginx = await startLocalNginx({
    proxy: { domain, publicHost, letsEncryptEmail: 'ops@example.com' },
    tasks: [backend.address],
  });
  ca = await readFile(nginx.certFile, 'utf8');
  https = `https://127.0.0.1:${nginx.httpsPort}`;
});

afterAll(async () => {
  await nginx?.stop();
  await backend?.close();
});

describe('nginx with a domain', () => {
  it('serves no API on plain HTTP: redirects to the public name (CloudFront), keeping path and query, secret or not', async () => {
    for (const headers of [{ Host: 'attacker.example' }, { Host: domain, ...nginx.cloudFront }]) {
      const response = await rawRequest(`http://127.0.0.1:${nginx.httpPort}/api/v1/history?limit=5`, {
        headers: { Authorization: 'Bearer plain-user', ...headers },
      });
      expect(response.status).toBe(301);
      expect(response.headers.location).toBe(`https://${publicHost}/api/v1/history?limit=5`);
    }
    expect(backend.seen.filter((line) => line.endsWith(' plain-user'))).toEqual([]);
  });

  it('refuses HTTPS requests without the origin secret (anyone but our CloudFront) with a JSON 403', async () => {
    const response = await rawRequest(`${https}/api/v1/settings`, {
      ca,
      servername: domain,
      headers: { Host: domain, Authorization: 'Bearer tls-user' },
    });
    expect(response.status).toBe(403);
    expect((JSON.parse(response.body) as { error: { code: string } }).error.code).toBe('forbidden');
  });

  it('serves ACME challenges and its health check over plain HTTP', async () => {
    await mkdir(join(nginx.dir, 'acme', '.well-known', 'acme-challenge'), { recursive: true });
    await writeFile(
      join(nginx.dir, 'acme', '.well-known', 'acme-challenge', 'token-123'),
      'token-123.thumbprint',
    );
    const challenge = await rawRequest(
      `http://127.0.0.1:${nginx.httpPort}/.well-known/acme-challenge/token-123`,
    );
    expect(challenge.status).toBe(200);
    expect(challenge.body).toBe('token-123.thumbprint');
    const missing = await rawRequest(`http://127.0.0.1:${nginx.httpPort}/.well-known/acme-challenge/nope`);
    expect(missing.status).toBe(404);
    expect((await rawRequest(`http://127.0.0.1:${nginx.httpPort}/nginx-health`)).status).toBe(200);
  });

  it('terminates TLS 1.3 with the certificate, sends HSTS and proxies to the task', async () => {
    const response = await rawRequest(`${https}/api/v1/settings`, {
      ca,
      servername: domain,
      headers: { Host: domain, Authorization: 'Bearer tls-user', ...nginx.cloudFront },
    });
    expect(response.status).toBe(200);
    const echo = JSON.parse(response.body) as {
      backend: string;
      key: string;
      headers: Record<string, string>;
    };
    expect(echo).toMatchObject({ backend: 'tls', key: 'tls-user' });
    expect(echo.headers['x-forwarded-proto']).toBe('https');
    expect(response.headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');

    const protocol = await new Promise<string | null>((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port: nginx.httpsPort, servername: domain, ca }, () => {
        resolve(socket.getProtocol());
        socket.end();
      });
      socket.on('error', reject);
    });
    expect(protocol).toBe('TLSv1.3');
  });

  it('refuses clients that only speak TLS 1.2 without an AEAD suite, and accepts TLS 1.2 with one', async () => {
    const handshake = (options: { maxVersion: 'TLSv1.2'; ciphers: string }) =>
      new Promise<string>((resolve, reject) => {
        const socket = connect(
          { host: '127.0.0.1', port: nginx.httpsPort, servername: domain, ca, ...options },
          () => {
            resolve(socket.getCipher().name);
            socket.end();
          },
        );
        socket.on('error', reject);
      });
    await expect(
      handshake({ maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256' }),
    ).resolves.toBe('ECDHE-ECDSA-AES128-GCM-SHA256');
    await expect(handshake({ maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-SHA' })).rejects.toThrow();
  });

  it('carries a player WebSocket over TLS (wss)', async () => {
    const { socket, hello } = await openPlayer(`wss://127.0.0.1:${nginx.httpsPort}/ws`, 'wss-user', {
      // The test certificate also names 127.0.0.1, so no SNI override is needed.
      ca,
      headers: { Host: domain, ...nginx.cloudFront },
    });
    try {
      expect(hello).toMatchObject({ backend: 'tls', key: 'wss-user' });
      const reply = new Promise<string>((resolve) =>
        socket.once('message', (data) => resolve((data as Buffer).toString())),
      );
      socket.send('over tls');
      expect(await reply).toBe('echo:over tls');
    } finally {
      socket.close();
    }
  });
});
