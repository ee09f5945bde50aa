import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import {
  MAX_METADATA_BYTES,
  fetchClientMetadataDocument,
  isPrivateAddress,
  loadClientMetadata,
  metadataUrlProblem,
} from './client-metadata.js';
import { readBoundedJson } from '../../bounded-json.js';

describe('client ID metadata documents: the fetch guards', () => {
  it.each([
    '127.0.0.1',
    '127.9.9.9',
    '10.1.2.3',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '169.254.169.254', // the cloud metadata service
    '100.64.0.1',
    '0.0.0.0',
    '224.0.0.1',
    '::1',
    '::',
    'fe80::1',
    'fd00::1',
    '::ffff:127.0.0.1',
    '::ffff:169.254.169.254',
    'not-an-address',
  ])('refuses %s', (address) => {
    expect(isPrivateAddress(address)).toBe(true);
  });

  it.each(['93.184.216.34', '8.8.8.8', '172.32.0.1', '2606:4700::1111', '::ffff:8.8.8.8'])(
    'allows the public address %s',
    (address) => {
      expect(isPrivateAddress(address)).toBe(false);
    },
  );

  it('takes only https URLs with a path and no credentials or fragment', () => {
    expect(metadataUrlProblem('https://agent.example/client.json')).toBeNull();
    expect(metadataUrlProblem('http://agent.example/client.json')).toMatch(/https/);
    expect(metadataUrlProblem('https://agent.example/')).toMatch(/path/);
    expect(metadataUrlProblem('https://user:pw@agent.example/c.json')).toMatch(/credentials/);
    expect(metadataUrlProblem('https://agent.example/c.json#x')).toMatch(/fragment/);
    expect(metadataUrlProblem(`https://agent.example/${'x'.repeat(2100)}`)).toMatch(/too long/);
  });

  it('the default fetcher refuses plain http and private address literals before connecting', async () => {
    await expect(fetchClientMetadataDocument(new URL('http://agent.example/c.json'))).rejects.toThrow(
      /https/,
    );
    await expect(fetchClientMetadataDocument(new URL('https://127.0.0.1/c.json'))).rejects.toThrow(/private/);
    await expect(fetchClientMetadataDocument(new URL('https://[::1]/c.json'))).rejects.toThrow(/private/);
    await expect(fetchClientMetadataDocument(new URL('https://169.254.169.254/c.json'))).rejects.toThrow(
      /private/,
    );
  });

  it('the default fetcher refuses a name that resolves to a private address', async () => {
    await expect(fetchClientMetadataDocument(new URL('https://localhost/c.json'))).rejects.toThrow(/private/);
  });

  it('reads at most the size limit, then fails', async () => {
    const small = Readable.from([Buffer.from('{"client_id":"x"}')]);
    expect(await readBoundedJson(small, MAX_METADATA_BYTES, 'the client metadata document')).toEqual({
      client_id: 'x',
    });
    let pulled = 0;
    // 100 KiB of valid JSON whitespace: only the size limit can refuse it.
    const endless = new Readable({
      read() {
        pulled++;
        this.push(pulled > 100 ? null : Buffer.alloc(1024, 0x20));
      },
    });
    await expect(readBoundedJson(endless, MAX_METADATA_BYTES)).rejects.toThrow(/larger than 5120 bytes/);
    expect(pulled).toBeLessThan(20);
    await expect(readBoundedJson(Readable.from([Buffer.from('<html>')]), 100)).rejects.toThrow(/not JSON/);
  });

  it('checks the document: its client_id, redirect URIs and fields', async () => {
    const url = 'https://agent.example/c.json';
    const load = (doc: unknown) => loadClientMetadata(url, async () => doc);
    await expect(
      load({ client_id: url, redirect_uris: ['https://agent.example/cb'], client_name: 'A' }),
    ).resolves.toEqual({
      clientId: url,
      clientName: 'A',
      clientUri: null,
      redirectUris: ['https://agent.example/cb'],
    });
    await expect(
      load({ client_id: 'https://other.example/c.json', redirect_uris: ['https://a.example/cb'] }),
    ).rejects.toThrow(/another client_id/);
    await expect(load({ client_id: url, redirect_uris: [] })).rejects.toThrow(/redirect_uris/);
    await expect(load({ client_id: url, redirect_uris: ['javascript:alert(1)'] })).rejects.toThrow(
      /javascript/,
    );
    await expect(load('text')).rejects.toThrow(/JSON object/);
    await expect(loadClientMetadata('http://agent.example/c.json', async () => ({}))).rejects.toThrow(
      /https/,
    );
  });
});
