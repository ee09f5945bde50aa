import { constants } from 'node:fs';
import { open, readFile, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { OGG_OPUS } from '@earshot/protocol';
import { ConfigError, loadConfig, type Config } from '../config/env.js';
import { CliError } from './errors.js';
import { isEarshot } from './probe.js';
import { COMMAND_USAGE } from './usage.js';

/** The server `say` talks to: EARSHOT_URL, else one answering on this machine's HOST:PORT. */
async function findServer(
  env: NodeJS.ProcessEnv,
  config: Config,
): Promise<{ url: string; key: string } | null> {
  const url = env.EARSHOT_URL
    ? env.EARSHOT_URL.replace(/\/+$/, '').replace(/\/mcp$/, '')
    : `http://${['0.0.0.0', '::'].includes(config.host) ? '127.0.0.1' : config.host}:${config.port}`;
  if (!(await isEarshot(url))) {
    if (env.EARSHOT_URL) throw new ConfigError(`No Earshot server answers at ${url}.`);
    return null;
  }
  let key = env.EARSHOT_API_KEY?.trim();
  if (!key && config.keys.kind === 'generate')
    key = (await readFile(config.keys.file, 'utf8').catch(() => '')).trim();
  if (!key) {
    throw new ConfigError(`An Earshot server runs at ${url}; set EARSHOT_API_KEY to your key to use it.`);
  }
  return { url, key };
}

/**
 * --out names a new .wav file in an existing folder. Only WAV is written (the offline engine makes PCM and the
 * server keeps PCM), so other extensions are refused rather than given WAV under a misleading name.
 */
async function checkOut(out: string): Promise<void> {
  const target = await stat(out).catch(() => undefined);
  if (target?.isDirectory())
    throw new CliError(
      `--out ${out} is a folder; name a file in it, e.g. --out ${join(out, 'speech.wav')}.`,
      2,
    );
  if (!/\.wav$/i.test(out))
    throw new CliError(
      `--out must name a .wav file: Earshot writes WAV audio (e.g. --out ${out.replace(/\.[^./]*$/, '') || 'speech'}.wav).`,
      2,
    );
  if (target) throw new CliError(`${out} exists; pick another --out.`, 2);
  const folder = dirname(resolve(out));
  const parent = await stat(folder).catch(() => undefined);
  if (!parent?.isDirectory())
    throw new CliError(
      `--out ${out}: the folder ${folder} does not exist; create it first, or pick another.`,
      2,
    );
}

async function writeNewFile(path: string, data: Buffer): Promise<void> {
  const handle = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o644).catch(
    (error) => {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST')
        throw new CliError(`${path} exists; pick another --out.`, 2);
      throw error;
    },
  );
  try {
    await handle.writeFile(data);
  } finally {
    await handle.close();
  }
}

/**
 * `earshot say TEXT [--voice V] [--model M] [--out FILE]`: speaks through the running server (its players
 * hear it, history keeps it), or with --out writes a WAV — through the server when one runs, else with the
 * engine directly.
 */
export async function say(argv: string[], env: NodeJS.ProcessEnv): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      voice: { type: 'string' },
      model: { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return void process.stdout.write(`${COMMAND_USAGE.say}\n`);
  const text = positionals.join(' ').trim();
  if (!text) throw new CliError(`Give the text to speak.\n${COMMAND_USAGE.say}`, 2);
  // Checked before anything is spoken, so a bad --out costs no credits.
  if (values.out !== undefined) await checkOut(values.out);
  const config = loadConfig(env);
  const server = await findServer(env, config);

  if (server) {
    const headers = { authorization: `Bearer ${server.key}`, 'content-type': 'application/json' };
    const response = await fetch(`${server.url}/api/v1/speak`, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        text,
        voice: values.voice,
        model: values.model,
        source: 'cli',
        play: !values.out,
      }),
    });
    const body = (await response.json()) as {
      error?: { message: string };
      id: string;
      voice: { name: string };
      durationMs: number;
      playersReached: number;
      playersListening?: number;
      credits: number;
      audioUrl: string | null;
    };
    if (!response.ok) throw new ConfigError(`Earshot refused: ${body.error?.message ?? response.status}`);
    const seconds = (body.durationMs / 1000).toFixed(1);
    if (!values.out) {
      process.stdout.write(
        body.playersListening === 0
          ? `Nobody heard it: ${body.playersReached} player(s) open, none with audio on (click "Enable audio" in the console). Generated ${seconds} s as ${body.voice.name}, ${body.credits} credits.\n`
          : `Spoke ${text.length} characters as ${body.voice.name} to ${body.playersListening ?? body.playersReached} listening player(s) (${seconds} s, ${body.credits} credits).\n`,
      );
      return;
    }
    if (!body.audioUrl) throw new CliError('The server did not keep the audio (is "Save audio" off?).', 1);
    const audio = await fetch(`${body.audioUrl}?format=wav`, {
      headers: { authorization: headers.authorization },
    });
    if (!audio.ok) throw new CliError(`Could not download the audio (HTTP ${audio.status}).`, 1);
    await writeNewFile(values.out, Buffer.from(await audio.arrayBuffer()));
    process.stdout.write(
      `Wrote ${values.out} (${seconds} s, ${body.voice.name}, ${body.credits} credits).\n`,
    );
    return;
  }

  if (!values.out) {
    throw new ConfigError(
      `No Earshot server is running on ${config.host}:${config.port}. Start one with "earshot serve" (npm start) ` +
        'so players can hear it, or pass --out FILE.wav to write the speech to a file.',
    );
  }
  // No server: synthesise here, with the configured engine (loaded only now: it is the heavy part).
  const [{ createEngine }, { wavHeader }, { OggOpusDecoder }] = await Promise.all([
    import('../engines/index.js'),
    import('../audio/wav.js'),
    import('@earshot/flite'),
  ]);
  const engine = createEngine(config.engine);
  try {
    const voices = await engine.listVoices();
    const wanted = values.voice?.toLowerCase();
    const voice = wanted
      ? voices.find((v) => v.id === values.voice || v.name.toLowerCase() === wanted)
      : voices[0];
    if (!voice)
      throw new ConfigError(`No voice "${values.voice}". Voices: ${voices.map((v) => v.name).join(', ')}.`);
    const stream = await engine.synthesize(
      { text, voiceId: voice.id, modelId: values.model },
      AbortSignal.timeout(120_000),
    );
    // Engines stream Ogg Opus: decoded here (at 16 kHz offline, 24 kHz from ElevenLabs) for the WAV.
    const opus = stream.format.mimeType === OGG_OPUS;
    const sampleRate = opus
      ? (stream.format.sampleRate ?? 48_000) <= 16_000
        ? 16_000
        : 24_000
      : (stream.format.sampleRate ?? 24_000);
    const decoder = opus ? new OggOpusDecoder(sampleRate === 16_000 ? 16_000 : 24_000) : null;
    const chunks: Buffer[] = [];
    for await (const event of stream.events) {
      if (event.type !== 'audio') continue;
      if (decoder) chunks.push(...decoder.push(event.data).map((pcm) => Buffer.from(pcm)));
      else chunks.push(Buffer.from(event.data));
    }
    decoder?.close();
    const pcm = Buffer.concat(chunks);
    await writeNewFile(values.out, Buffer.concat([wavHeader(pcm.length, sampleRate, 1), pcm]));
    process.stdout.write(
      `Wrote ${values.out} (${(pcm.length / 2 / sampleRate).toFixed(1)} s, ${voice.name}, ${engine.name} engine).\n`,
    );
  } finally {
    await engine.close();
  }
}
