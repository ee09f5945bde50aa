import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectMcp } from './support/mcp.js';
import { startTestServer, type TestServer } from './support/server.js';

const SUITE_BIN = join(
  dirname(createRequire(import.meta.url).resolve('@modelcontextprotocol/conformance/package.json')),
  'dist/index.js',
);
const BASELINE = fileURLToPath(new URL('./conformance/expected-failures.yml', import.meta.url));

/** Scenarios about what every MCP server must do: they must pass. */
const APPLICABLE = [
  'server-initialize',
  'ping',
  'tools-list',
  'resources-list',
  'logging-set-level',
  'dns-rebinding-protection',
];

/** Scenarios that call the suite's fixture tools: run against the baseline (expected-failures.yml). */
const FIXTURE_TOOL = [
  'tools-call-simple-text',
  'tools-call-image',
  'tools-call-audio',
  'tools-call-embedded-resource',
  'tools-call-mixed-content',
  'tools-call-with-logging',
  'tools-call-error',
  'tools-call-with-progress',
  'tools-call-sampling',
  'tools-call-elicitation',
  'json-schema-2020-12',
  'elicitation-sep1034-defaults',
  'elicitation-sep1330-enums',
  'server-sse-polling',
];

/** Scenarios that do not apply to Earshot, and why. Each reason is checked below where it can be. */
const NOT_APPLICABLE: Record<string, string> = {
  'completion-complete':
    'completes the fixture prompt test_prompt_with_arguments; Earshot declares no completions',
  'resources-read-text': 'reads the fixture resource test://static-text',
  'resources-read-binary': 'reads the fixture resource test://static-binary',
  'resources-templates-read': 'reads the fixture template test://template/{id}/data',
  'resources-subscribe': 'subscribes to the fixture resource test://watched-resource',
  'resources-unsubscribe': 'unsubscribes from the fixture resource test://watched-resource',
  'prompts-list': 'Earshot declares no prompts capability (run it once it does)',
  'prompts-get-simple': 'gets the fixture prompt test_simple_prompt',
  'prompts-get-with-args': 'gets the fixture prompt test_prompt_with_arguments',
  'prompts-get-embedded-resource': 'gets the fixture prompt test_prompt_with_embedded_resource',
  'prompts-get-with-image': 'gets the fixture prompt test_prompt_with_image',
  'server-sse-multiple-streams':
    'needs an Mcp-Session-Id; Earshot serves MCP statelessly by design (any instance answers any call)',
};

function runSuite(args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [SUITE_BIN, ...args],
      { timeout: 60_000, env: { PATH: process.env.PATH ?? '', NO_COLOR: '1' } },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, output: `${stdout}${stderr}` });
      },
    );
  });
}

describe('MCP conformance suite (@modelcontextprotocol/conformance) against a loopback Earshot', () => {
  let server: TestServer;
  let outputDir: string;
  beforeAll(async () => {
    // The suite sends no key: auth is off, which Earshot allows only on a loopback address.
    server = await startTestServer({ users: ['alice'], env: { EARSHOT_DANGEROUSLY_OMIT_AUTH: '1' } });
    outputDir = await mkdtemp(join(tmpdir(), 'earshot-conformance-'));
  });
  afterAll(async () => {
    await server.close();
    await rm(outputDir, { recursive: true, force: true });
  });

  it('every scenario the suite has is classified: applicable, fixture tool, or not applicable with a reason', async () => {
    const { code, output } = await runSuite(['list', '--server']);
    expect(code, output).toBe(0);
    const listed = [...output.matchAll(/^\s+- ([a-z0-9-]+)/gm)].map((match) => match[1]).sort();
    expect(listed.length).toBeGreaterThan(20);
    const classified = [...APPLICABLE, ...FIXTURE_TOOL, ...Object.keys(NOT_APPLICABLE)].sort();
    expect(listed).toEqual(classified);
  });

  it('the expected-failures file lists only fixture-tool scenarios, each with a reason', async () => {
    const lines = (await readFile(BASELINE, 'utf8')).split('\n').filter((line) => /^\s+-/.test(line));
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) {
      const match = /^\s+- ([a-z0-9-]+) # \S.*$/.exec(line);
      expect(match, `"${line}" needs a "# reason"`).not.toBeNull();
      expect(FIXTURE_TOOL).toContain(match![1]);
    }
  });

  it('declares the capabilities the applicable scenarios test, and not those of the not-applicable ones', async () => {
    const client = await connectMcp(server.url, undefined);
    const capabilities = client.getServerCapabilities() ?? {};
    expect(capabilities.logging).toBeDefined();
    expect(capabilities.tools).toBeDefined();
    expect(capabilities.completions, NOT_APPLICABLE['completion-complete']).toBeUndefined();
    // earshot://history/{id}: resources-list applies (and runs above); the other resources-* need fixtures.
    expect(capabilities.resources).toBeDefined();
    expect(capabilities.prompts, NOT_APPLICABLE['prompts-list']).toBeUndefined();
    await client.close();
  });

  it.concurrent.each([...APPLICABLE, ...FIXTURE_TOOL])(
    'scenario %s passes (or fails as the baseline expects)',
    async (scenario) => {
      const { code, output } = await runSuite([
        'server',
        '--url',
        `${server.url}/mcp`,
        '--scenario',
        scenario,
        '--expected-failures',
        BASELINE,
        '--output-dir',
        join(outputDir, scenario),
      ]);
      expect(code, output).toBe(0);
      if (APPLICABLE.includes(scenario)) expect(output).toMatch(/Passed: (\d+)\/\1, 0 failed, 0 warnings/);
    },
  );
});
