/**
 * Audio as files beside the database: `<dataDir>/audio/<user>/<id>.audio`, written to a temporary name in
 * the same folder, then renamed, so a file under its final name was written whole by a process that did not
 * crash.
 *
 * Not fsynced: a clip is as durable as the database row that names it. The database runs WAL with
 * `synchronous = NORMAL` (database.ts), so a power cut may lose its last commits, never a process crash (the
 * page cache survives the process); the clips follow the same rule. A clip that a power cut shortened or lost
 * while its row survived is found when it is read (`short`, `missing`: see read()), never played as less (ext4's
 * default ordering leaves such a file short or empty; a file system that may keep the length over unwritten
 * blocks gives zeros, which no Ogg reader takes for a page).
 * The two fsyncs a clip cost before (its file, then its folder for the rename) were half of keeping it: 200
 * clips of 18 KB at once took 50–57 ms of the process's CPU on one core with them, 25–26 ms without
 * (bench/results/HISTORY.md, twenty-second round).
 */
import { open, readdir, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { mkdir } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { AudioSink, StoredAudio } from '../contract.js';
import {
  AudioMissingError,
  AudioNotKeptError,
  fileError,
  StoreUnavailableError,
  type StoreError,
} from '../errors.js';
import { exactLength } from '../shared.js';
import { randomId } from '../../random-id.js';

/** Chunks waiting for the disk past this mean it cannot keep up: the clip is dropped, playback goes on. */
const MAX_PENDING_BYTES = 8 * 1024 * 1024;
/**
 * Audio goes to disk in pieces of at least this size (the clip's end whatever its size): one write per
 * ~1.4 s of 24 kHz PCM rather than one per chunk. With 200 speeches at once, a write per chunk (each a trip
 * through libuv's thread pool) was an eighth of the server's CPU. Players never wait for this: they get each
 * chunk as it arrives, and a clip is readable only once finished.
 */
const WRITE_BATCH_BYTES = 64 * 1024;
const AUDIO_SUFFIX = '.audio';
const TEMP_SUFFIX = '.tmp';
const SWEEP_BATCH = 200;
/**
 * Temporary files are named `.<id>~<host>~<pid>~<random>.tmp`: a sweep on the same host can tell that the
 * process writing one is gone (kill -9, a crash) and remove it at once instead of after the grace period.
 * The host part is a hash, so a container sharing the folder (its own pid numbers) never matches.
 */
const HOST_TAG = createHash('sha256').update(hostname()).digest('hex').slice(0, 8);
const TEMP_NAME = /^\.[A-Za-z0-9_-]+~([0-9a-f]{8})~(\d+)~[A-Za-z0-9_-]+\.tmp$/;

export interface SweepResult {
  readonly orphanFiles: number;
  readonly temporaryFiles: number;
}

export class AudioFiles {
  private readonly inFlight = new Set<Promise<unknown>>();
  /** Users' folders this process has made (or found): a clip in one needs no mkdir. */
  private readonly folders = new Set<string>();

  constructor(readonly root: string) {}

  path(user: string, id: string): string {
    return join(this.root, user, `${id}${AUDIO_SUFFIX}`);
  }

  openSink(user: string, id: string, maxBytes: number): AudioSink {
    const dir = join(this.root, user);
    const temp = join(dir, temporaryName(id));
    const sink = new FileAudioSink(dir, temp, this.path(user, id), maxBytes, this.folders);
    const settled = sink.settled.catch(() => undefined);
    this.inFlight.add(settled);
    void settled.finally(() => this.inFlight.delete(settled));
    return sink;
  }

  async read(user: string, id: string, bytes: number): Promise<StoredAudio> {
    const path = this.path(user, id);
    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new AudioMissingError('missing', `The audio file of ${id} is missing (${path}).`);
      }
      throw fileError(error, `open ${path}`);
    }
    try {
      const { size } = await handle.stat();
      if (size < bytes) {
        throw new AudioMissingError(
          'short',
          `The audio file of ${id} has ${size} of its ${bytes} bytes (${path}).`,
        );
      }
      if (bytes === 0) {
        await handle.close();
        return { stream: Readable.from([]), bytes };
      }
      const stream = handle.createReadStream({ start: 0, end: bytes - 1, autoClose: true });
      return { stream: exactLength(stream, bytes, `The audio file of ${id}`), bytes };
    } catch (error) {
      await handle.close().catch(() => undefined);
      throw fileError(error, `read ${path}`);
    }
  }

  async remove(user: string, id: string): Promise<void> {
    await rm(this.path(user, id), { force: true });
  }

  /**
   * Deletes temporary files and files no history row refers to, when older than `graceMs` (a speech still
   * being written in another process is younger) — temporary files of a process of this host that is gone
   * at once, whatever their age. Yields to the event loop between batches.
   */
  async sweep(
    now: Date,
    graceMs: number,
    isReferenced: (user: string, id: string) => boolean,
  ): Promise<SweepResult> {
    const cutoff = now.getTime() - graceMs;
    let orphanFiles = 0;
    let temporaryFiles = 0;
    let seen = 0;
    for (const user of await listDir(this.root)) {
      const dir = join(this.root, user);
      for (const name of await listDir(dir)) {
        if (++seen % SWEEP_BATCH === 0) await yieldToEventLoop();
        const isTemp = name.endsWith(TEMP_SUFFIX);
        if (!isTemp && !name.endsWith(AUDIO_SUFFIX)) continue;
        if (!isTemp && isReferenced(user, name.slice(0, -AUDIO_SUFFIX.length))) continue;
        const path = join(dir, name);
        const info = await stat(path).catch(() => null);
        if (!info || (info.mtimeMs > cutoff && !(isTemp && writerIsGone(name)))) continue;
        await rm(path, { force: true });
        if (isTemp) temporaryFiles++;
        else orphanFiles++;
      }
    }
    return { orphanFiles, temporaryFiles };
  }

  /** Waits for clips still being written (at close). */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.inFlight]);
  }
}

/** The name a clip is written under until it is complete (`pid`: the writing process). */
export function temporaryName(id: string, pid = process.pid): string {
  // From the pooled ids (base64url; older files have hex here, which the sweep's pattern also matches): a system
  // call for 4 bytes per clip is not needed for a name that only has to differ from its neighbours'.
  return `.${id}~${HOST_TAG}~${pid}~${randomId('', 4)}${TEMP_SUFFIX}`;
}

/** True when the temporary file was written by a process of this host that no longer runs. */
function writerIsGone(name: string): boolean {
  const match = TEMP_NAME.exec(name);
  if (!match || match[1] !== HOST_TAG) return false;
  const pid = Number(match[2]);
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    // EPERM: it runs, as another user.
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

async function listDir(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw fileError(error, `list ${dir}`);
  }
}

class FileAudioSink implements AudioSink {
  private readonly queue: Uint8Array[] = [];
  private queued = 0;
  private bytes = 0;
  private failure: StoreError | undefined;
  private writing = false;
  private pumping: Promise<void> = Promise.resolve();
  private finishing: Promise<number> | undefined;
  /** The temporary file, created with the first audio (see opened()). */
  private handle: Promise<FileHandle | null> | undefined;
  private readonly outcome = Promise.withResolvers<number>();
  /** Settles when the clip is kept or dropped (for close()). */
  readonly settled = this.outcome.promise;

  constructor(
    private readonly dir: string,
    private readonly temp: string,
    private readonly target: string,
    private readonly maxBytes: number,
    private readonly folders: Set<string>,
  ) {
    this.settled.catch(() => undefined);
  }

  /**
   * Creates the temporary file when there is something to write: the first full piece (WRITE_BATCH_BYTES) or
   * the end of the clip, not when the sink opens or at its first chunk. Those come as speeches start, where a
   * trip to the disk (mkdir, open: each a thread-pool job on the CPU the event loop needs) delayed the first
   * audio of every other speech starting at the same time; most clips are written whole at their end.
   */
  private opened(): Promise<FileHandle | null> {
    this.handle ??= createFile(this.dir, this.temp, this.folders).catch((error: unknown) => {
      this.fail(fileError(error, `create an audio file in ${this.dir}`));
      return null;
    });
    return this.handle;
  }

  write(chunk: Uint8Array): void {
    if (this.failure || this.finishing) return;
    const size = chunk.byteLength;
    if (this.bytes + size > this.maxBytes) {
      return this.fail(
        new AudioNotKeptError('too_large', `The clip passed ${this.maxBytes} bytes; it is not kept.`),
      );
    }
    if (this.queued + size > MAX_PENDING_BYTES) {
      return this.fail(
        new AudioNotKeptError('too_slow', 'The disk fell too far behind the audio; the clip is not kept.'),
      );
    }
    this.bytes += size;
    this.queued += size;
    this.queue.push(chunk); // kept as it is: audio is handed over, never changed after (SynthesisEvent)
    if (this.queued >= WRITE_BATCH_BYTES) this.startPump();
  }

  private startPump(): void {
    if (this.writing) return;
    this.writing = true;
    this.pumping = this.pump();
  }

  finish(): Promise<number> {
    if (!this.finishing) {
      this.finishing = this.complete();
      this.finishing.then(this.outcome.resolve, this.outcome.reject);
    }
    return this.finishing;
  }

  abort(): void {
    this.fail(new AudioNotKeptError('aborted', 'The clip was aborted.'));
    void this.finish().catch(() => undefined);
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure;
  }

  private fail(error: StoreError): void {
    this.failure ??= error;
    this.queue.length = 0;
    this.queued = 0;
  }

  private async pump(): Promise<void> {
    try {
      // Nothing to write, or the clip already failed: no file to make. (A clip aborted before its first audio
      // made one here, which complete() had already decided not to have, and it stayed open until GC.)
      if (this.failure || this.queue.length === 0) return;
      const handle = await this.opened();
      while (handle && this.queue.length > 0 && !this.failure) {
        const pieces = this.queue.splice(0);
        this.queued -= await writeAll(handle, pieces);
      }
    } catch (error) {
      this.fail(fileError(error, `write ${this.temp}`));
    } finally {
      this.writing = false;
    }
  }

  private async complete(): Promise<number> {
    // A clip that failed before any audio never made its file.
    const handle = this.handle || !this.failure ? await this.opened() : null;
    await this.pumping;
    // What is left after the last full piece (the pump stops when the queue is empty, so this runs once).
    this.startPump();
    await this.pumping;
    try {
      if (this.failure) throw this.failure;
      if (!handle) throw new StoreUnavailableError('The audio file could not be opened.');
      await handle.close();
      this.throwIfFailed(); // an abort may have come while the file was closed
      await rename(this.temp, this.target);
      return this.bytes;
    } catch (error) {
      await handle?.close().catch(() => undefined);
      await rm(this.temp, { force: true }).catch(() => undefined);
      throw fileError(error, `store the audio file ${this.target}`);
    }
  }
}

/**
 * Creates a clip's temporary file (never an existing one), making the user's folder first unless this process
 * already has; a folder removed since (by hand) is made again.
 */
async function createFile(dir: string, temp: string, folders: Set<string>): Promise<FileHandle> {
  if (!folders.has(dir)) {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    folders.add(dir);
  }
  try {
    return await open(temp, 'wx', 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    folders.delete(dir);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    folders.add(dir);
    return await open(temp, 'wx', 0o600);
  }
}

/**
 * Writes the pieces in order, as one `writev` (no copy into one buffer: with 200 clips ending at once, joining each
 * clip's chunks was ~1.5% of the speeches' CPU), going on after a short write until all is written or the file
 * system refuses (a full disk: the next write fails with ENOSPC, which says so). Returns the bytes written.
 */
async function writeAll(handle: FileHandle, pieces: Uint8Array[]): Promise<number> {
  let total = 0;
  let rest = pieces;
  while (rest.length > 0) {
    let written = (await handle.writev(rest)).bytesWritten;
    if (written === 0) throw new Error('the file system took none of the audio');
    total += written;
    let done = 0;
    while (done < rest.length && written >= rest[done]!.byteLength) written -= rest[done++]!.byteLength;
    rest = rest.slice(done);
    if (written > 0) rest[0] = rest[0]!.subarray(written);
  }
  return total;
}
