/**
 * A clip written on a disk that fills up in the middle of its one write, for audio-full-disk.test.ts. Run inside
 * the small tmpfs (`smallDisk`'s wrapper, or as root on its mount) with
 * `node --import tsx --conditions=@earshot/source audio-full-disk-child.ts DIR ROOM_BYTES CLIP_BYTES`: it fills DIR
 * but for about ROOM_BYTES, writes a clip of CLIP_BYTES (in 10 kB chunks, below the sink's batch size, so the whole
 * clip goes down in one write at its end) and prints what the sink said and which files are left, as JSON.
 */
import { mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AudioFiles } from '../../src/storage/sqlite/audio-files.js';
import { fill } from './tmpfs.js';

const [dir, roomArg, clipArg] = process.argv.slice(2);
if (!dir || !roomArg || !clipArg)
  throw new Error('usage: audio-full-disk-child.ts DIR ROOM_BYTES CLIP_BYTES');
const root = join(dir, 'audio');
mkdirSync(join(root, 'alice'), { recursive: true });
// Room made first and given back after the fill: what is left is about its size.
writeFileSync(join(dir, 'room'), Buffer.alloc(Number(roomArg), 0x5a));
fill(dir);
rmSync(join(dir, 'room'));

const files = new AudioFiles(root);
const sink = files.openSink('alice', 'clip', 10 * 1024 * 1024);
const clipBytes = Number(clipArg);
for (let offset = 0; offset < clipBytes; offset += 10_000)
  sink.write(Buffer.alloc(Math.min(10_000, clipBytes - offset), 0x41));
let outcome: Record<string, unknown>;
try {
  outcome = { kept: true, bytes: await sink.finish() };
} catch (error) {
  outcome = { kept: false, name: (error as Error).name, message: (error as Error).message };
}
const left = readdirSync(join(root, 'alice')).map((name) => ({
  name,
  bytes: statSync(join(root, 'alice', name)).size,
}));
process.stdout.write(`${JSON.stringify({ ...outcome, left })}\n`);
