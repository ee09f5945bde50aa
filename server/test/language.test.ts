import type { Standin } from '@earshot/elevenlabs-standin';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectMcp, connectMcpBridge, MCP_CLIENT_KINDS, type McpTestClient, textOf } from './support/mcp.js';
import { startTestServer, startWithStandin, type TestServer } from './support/server.js';

const KEY = 'language-upstream-key';
const FLASH = 'eleven_flash_v2_5';

/** `language` on speak, text_to_speech, speak_dialogue and REST speak, against the stand-in and offline. */
describe('language', () => {
  let standin: Standin;
  let server: TestServer;
  const clients: Record<string, McpTestClient> = {};

  beforeAll(async () => {
    ({ standin, server } = await startWithStandin(KEY));
    for (const kind of MCP_CLIENT_KINDS)
      clients[`http ${kind}`] = await connectMcp(server.url, server.keys.alice, kind);
    clients.stdio = await connectMcpBridge(server.url, server.keys.alice!);
  });
  afterAll(async () => {
    await Promise.all(Object.values(clients).map((client) => client.close()));
    await server.close();
    await standin.close();
  });

  const ttsBodies = () =>
    standin.requests
      .filter((request) => request.path.startsWith('/v1/text-to-speech/'))
      .map((request) => request.body as { text: string; model_id?: string; language_code?: string });

  for (const via of [...MCP_CLIENT_KINDS.map((kind) => `http ${kind}`), 'stdio']) {
    it(`sends language_code on the models that take it and refuses it before spending elsewhere (${via})`, async () => {
      const client = clients[via]!;
      const call = (name: string, args: Record<string, unknown>) =>
        client.callTool({ name, arguments: args });
      for (const name of ['speak', 'text_to_speech']) {
        const text = `Guten Tag über ${via} mit ${name}.`;
        const said = await call(name, { text, model: FLASH, language: 'DE' });
        expect(said.isError, textOf(said)).toBeFalsy();
        expect(ttsBodies().find((body) => body.text === text)?.language_code).toBe('de');
      }
      const lines = [
        { voice: 'Rachel', text: `Eins über ${via}.` },
        { voice: 'Adam', text: `Zwei über ${via}.` },
      ];
      const dialogue = await call('speak_dialogue', { lines, model: FLASH, language: 'de' });
      expect(dialogue.isError, textOf(dialogue)).toBeFalsy();
      for (const line of lines) {
        expect(ttsBodies().find((body) => body.text === line.text)?.language_code).toBe('de');
      }

      // The default model (Flash v2.5, when neither the call nor the settings name one) takes a language.
      const byDefault = `Standardmodell über ${via}.`;
      const defaultSaid = await call('speak', { text: byDefault, language: 'de' });
      expect(defaultSaid.isError, textOf(defaultSaid)).toBeFalsy();
      expect(ttsBodies().find((body) => body.text === byDefault)).toMatchObject({
        model_id: FLASH,
        language_code: 'de',
      });

      const before = ttsBodies().length;
      const wrongModel = await call('speak', {
        text: 'Hallo.',
        model: 'eleven_multilingual_v2',
        language: 'de',
      });
      expect(textOf(wrongModel)).toMatch(
        /eleven_flash_v2_5, eleven_turbo_v2_5, eleven_v3.*\[language_unsupported\]/,
      );
      const notSpoken = await call('text_to_speech', { text: 'Salam.', model: FLASH, language: 'fa' });
      expect(textOf(notSpoken)).toMatch(/does not speak Persian \(fa\).*\[language_unsupported\]/);
      const dialogueRefused = await call('speak_dialogue', {
        lines,
        model: 'eleven_multilingual_v2',
        language: 'de',
      });
      expect(textOf(dialogueRefused)).toContain('[language_unsupported]');
      for (const language of ['xx', 'deu', 'e1']) {
        const invalid = await call('speak', { text: 'Hallo.', model: FLASH, language });
        expect(invalid.isError, language).toBe(true);
        expect(textOf(invalid)).toMatch(/ISO 639-1/);
      }
      expect(ttsBodies().length).toBe(before);

      standin.injectFault({ status: 500, path: /text-to-speech/ });
      const failed = await call('speak', { text: `Fehler über ${via}.`, model: FLASH, language: 'de' });
      expect(textOf(failed)).toMatch(/server error \(HTTP 500\)/);
    });
  }

  it('keeps a speech in one language apart from the same words in another (no free replay across them)', async () => {
    const client = clients['http modern']!;
    const text = 'Hola, buenos días.';
    const first = await client.callTool({
      name: 'text_to_speech',
      arguments: { text, model: FLASH, language: 'es' },
    });
    const same = await client.callTool({
      name: 'text_to_speech',
      arguments: { text, model: FLASH, language: 'es' },
    });
    const other = await client.callTool({ name: 'text_to_speech', arguments: { text, model: FLASH } });
    expect((same.structuredContent as { cached: boolean }).cached).toBe(true);
    expect((other.structuredContent as { cached: boolean; id: string }).cached).toBe(false);
    expect((other.structuredContent as { id: string }).id).not.toBe(
      (first.structuredContent as { id: string }).id,
    );
  });

  it('takes language on REST speak, refusing a bad code with 400 invalid_input', async () => {
    const speak = (body: unknown) =>
      fetch(`${server.url}/api/v1/speak`, {
        method: 'POST',
        headers: { authorization: `Bearer ${server.keys.alice}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const ok = await speak({ text: 'Bonjour par REST.', model: FLASH, language: 'fr', play: false });
    expect(ok.status).toBe(200);
    expect(ttsBodies().find((body) => body.text === 'Bonjour par REST.')?.language_code).toBe('fr');
    const bad = await speak({ text: 'Bonjour.', language: 'zz' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('invalid_input');
    const unsupported = await speak({ text: 'Bonjour.', model: 'eleven_multilingual_v2', language: 'fr' });
    expect(unsupported.status).toBe(400);
    expect(((await unsupported.json()) as { error: { code: string } }).error.code).toBe(
      'language_unsupported',
    );
  });

  it('offline: speaks English when asked, refuses every other language clearly', async () => {
    const offline = await startTestServer();
    const client = await connectMcp(offline.url, offline.keys.alice);
    const english = await client.callTool({
      name: 'text_to_speech',
      arguments: { text: 'Hello.', language: 'en' },
    });
    expect(english.isError, textOf(english)).toBeFalsy();
    const german = await client.callTool({ name: 'speak', arguments: { text: 'Hallo.', language: 'de' } });
    expect(textOf(german)).toMatch(/offline voice speaks English only.*\[language_unsupported\]/s);
    await client.close();
    await offline.close();
  });
});
