import { mkdir, mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectOneClearMessage, freePort, runCli, unwritableFolder } from './support/cli.js';

const SAY_USAGE = 'Usage: earshot say "text to speak" [--voice NAME] [--model ID] [--out FILE.wav]';

describe(
  'CLI misuse: one clear message, exit 2 for usage errors, never a Node stack',
  { timeout: 120_000 },
  () => {
    let dir: string;
    let offline: Record<string, string>;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'earshot-usage-'));
      // No server on this port: say writes with the offline engine, or refuses.
      offline = { PORT: String(await freePort()), EARSHOT_DATA_DIR: join(dir, 'data') };
    });
    afterAll(() => rm(dir, { recursive: true, force: true }));

    it('say with an unknown option, or an option missing its value', async () => {
      const bogus = await runCli(['say', '--bogus'], offline);
      expect(bogus.code).toBe(2);
      expectOneClearMessage(bogus);
      expect(bogus.stderr).toBe(`Unknown option --bogus.\n${SAY_USAGE}\n`);
      const missing = await runCli(['say', 'hi', '--voice'], offline);
      expect(missing.code).toBe(2);
      expectOneClearMessage(missing);
      expect(missing.stderr).toBe(`--voice needs a value.\n${SAY_USAGE}\n`);
      const empty = await runCli(['say'], offline);
      expect(empty.code).toBe(2);
      expect(empty.stderr).toBe(`Give the text to speak.\n${SAY_USAGE}\n`);
      const help = await runCli(['say', '--help'], offline);
      expect(help).toEqual({ code: 0, stdout: `${SAY_USAGE}\n`, stderr: '' });
    });

    it('say --out refuses a folder, a missing folder, an existing file and a name not ending in .wav, before speaking', async () => {
      const base = join(dir, 'refused');
      const folder = join(base, 'folder');
      await mkdir(folder, { recursive: true });
      const cases: [string, RegExp][] = [
        [folder, /^--out \S+ is a folder; name a file in it, e\.g\. --out \S+speech\.wav\.$/],
        [join(base, 'missing', 'x.wav'), /^--out \S+: the folder \S+missing does not exist; create it first/],
        [
          join(base, 'speech.mp3'),
          /^--out must name a \.wav file: Earshot writes WAV audio \(e\.g\. --out \S+speech\.wav\)\.$/,
        ],
        [join(base, 'speech'), /^--out must name a \.wav file/],
      ];
      for (const [out, message] of cases) {
        const result = await runCli(['say', 'hi', '--out', out], offline);
        expect(result.code, out).toBe(2);
        expectOneClearMessage(result);
        expect(result.stderr.trim()).toMatch(message);
      }
      expect(await readdir(base)).toEqual(['folder']);
      expect(await readdir(folder)).toEqual([]);
    });

    it('say --out to a .wav writes a WAV, and a folder it may not write is a runtime failure (exit 1)', async () => {
      const out = join(dir, 'Upper.WAV');
      const written = await runCli(['say', 'hi', '--out', out], offline);
      expect(written.code).toBe(0);
      expect((await readFile(out)).toString('ascii', 0, 4)).toBe('RIFF');
      await rm(out);
      const unwritable = await unwritableFolder();
      try {
        const denied = await runCli(['say', 'hi', '--out', join(unwritable, 'x.wav')], offline);
        expect(denied.code).toBe(1);
        expectOneClearMessage(denied);
        expect(denied.stderr).toMatch(
          /^Cannot open \S+x\.wav: (permission denied|the file system is read-only)\.$/m,
        );
      } finally {
        if (unwritable !== '/sys') await rm(unwritable, { recursive: true, force: true });
      }
    });

    it('keys create with a missing, malformed or extra name, and keys without create', async () => {
      const cases: [string[], RegExp][] = [
        [
          ['keys', 'create'],
          /^Give the user a name: earshot keys create alice\nUsage: earshot keys create NAME/,
        ],
        [['keys', 'create', 'bad name'], /^A user name is 1-64 letters, digits, "-" or "_"/],
        [['keys', 'create', '-dash'], /^Unknown option -d\./],
        [['keys', 'create', 'a'.repeat(65)], /^A user name is 1-64 letters/],
        [['keys', 'create', 'alice', 'bob'], /^keys create takes one NAME\./],
        [['keys'], /^Usage: earshot keys create NAME/],
        [['keys', 'list'], /^Usage: earshot keys create NAME/],
      ];
      for (const [args, message] of cases) {
        const result = await runCli(args, {});
        expect(result.code, args.join(' ')).toBe(2);
        expectOneClearMessage(result);
        expect(result.stderr).toMatch(message);
      }
    });

    it('unknown options and stray arguments for doctor, serve and mcp; unknown commands', async () => {
      const cases: [string[], RegExp][] = [
        [['doctor', '--bogus'], /^Unknown option --bogus\.\nUsage: earshot doctor$/],
        [['serve', '--port', '9000'], /^Unknown option --port\.\nUsage: earshot serve/],
        [['serve', 'now'], /^Unexpected argument\.\nUsage: earshot serve/],
        [['mcp', '--bogus'], /^Unknown option --bogus\.\nUsage: earshot mcp/],
        [
          ['bogus'],
          /^Unknown command "bogus"\. Commands: serve, mcp, say, keys create, store init, doctor; see earshot --help\.$/,
        ],
      ];
      for (const [args, message] of cases) {
        const result = await runCli(args, offline);
        expect(result.code, args.join(' ')).toBe(2);
        expectOneClearMessage(result);
        expect(result.stderr.trim()).toMatch(message);
      }
    });

    it('--version prints the version from server/package.json; --help prints the commands', async () => {
      const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')) as {
        version: string;
      };
      expect(await runCli(['--version'], {})).toEqual({ code: 0, stdout: `${pkg.version}\n`, stderr: '' });
      const help = await runCli(['--help'], {});
      expect(help.code).toBe(0);
      expect(help.stdout).toMatch(/^Usage: earshot <command>[\s\S]*--version/);
      const doctorHelp = await runCli(['doctor', '--help'], {});
      expect(doctorHelp).toEqual({ code: 0, stdout: 'Usage: earshot doctor\n', stderr: '' });
    });
  },
);
