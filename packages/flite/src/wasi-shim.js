// A minimal WASI preview1 host for the Flite command-line program: arguments, a clock, stderr, and one
// in-memory directory where it writes its WAV file. Node's own `node:wasi` (experimental in Node 20)
// crashed the process with a segfault after ~150 runs of the CMU voices; these 13 calls are all Flite
// imports, and keeping the output in memory also avoids temporary files.

const ERRNO = { SUCCESS: 0, BADF: 8, INVAL: 28, NOENT: 44, NOSYS: 52 };
const FILETYPE = { CHARACTER_DEVICE: 2, DIRECTORY: 3, REGULAR_FILE: 4 };
const PREOPEN_FD = 3;
const ALL_RIGHTS = 0xffffffffffffffffn;

/** Thrown by proc_exit to unwind out of `_start`. */
export class WasiExit extends Error {
  /** @param {number} code */
  constructor(code) {
    super(`exit ${code}`);
    this.code = code;
  }
}

/** A growable in-memory file with a position, enough for fopen/fwrite/fseek/fclose. */
class MemoryFile {
  constructor() {
    this.bytes = new Uint8Array(64 * 1024);
    this.length = 0;
    this.position = 0;
  }
  /** @param {Uint8Array} data */
  write(data) {
    const end = this.position + data.length;
    if (end > this.bytes.length) {
      const grown = new Uint8Array(Math.max(end, this.bytes.length * 2));
      grown.set(this.bytes.subarray(0, this.length));
      this.bytes = grown;
    }
    this.bytes.set(data, this.position);
    this.position = end;
    this.length = Math.max(this.length, end);
  }
  contents() {
    return this.bytes.slice(0, this.length);
  }
}

/**
 * @param {string[]} args argv, including the program name
 * @param {string} preopenName the directory name the program sees, e.g. "/work"
 */
export function createWasiHost(args, preopenName) {
  /** @typedef {{ buffer: ArrayBuffer }} WasmMemory */
  /** @type {WasmMemory | undefined} */
  let memory;
  /** @type {Map<number, { path: string, file: MemoryFile }>} */
  const open = new Map();
  /** @type {Map<string, MemoryFile>} */
  const files = new Map();
  let nextFd = PREOPEN_FD + 1;
  let stderr = '';
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  const encodedArgs = args.map((arg) => encoder.encode(`${arg}\0`));
  const preopenBytes = encoder.encode(preopenName);

  const view = () => new DataView(/** @type {WasmMemory} */ (memory).buffer);
  const bytes = () => new Uint8Array(/** @type {WasmMemory} */ (memory).buffer);

  /** Gathers the bytes an iovec array points at. */
  const gather = (/** @type {number} */ iovs, /** @type {number} */ count) => {
    const chunks = [];
    for (let i = 0; i < count; i++) {
      const base = view().getUint32(iovs + i * 8, true);
      const length = view().getUint32(iovs + i * 8 + 4, true);
      chunks.push(bytes().slice(base, base + length));
    }
    return chunks;
  };

  const wasi = {
    args_sizes_get(/** @type {number} */ argcPtr, /** @type {number} */ sizePtr) {
      view().setUint32(argcPtr, encodedArgs.length, true);
      view().setUint32(
        sizePtr,
        encodedArgs.reduce((sum, arg) => sum + arg.length, 0),
        true,
      );
      return ERRNO.SUCCESS;
    },
    args_get(/** @type {number} */ argvPtr, /** @type {number} */ bufPtr) {
      let offset = bufPtr;
      encodedArgs.forEach((arg, i) => {
        view().setUint32(argvPtr + i * 4, offset, true);
        bytes().set(arg, offset);
        offset += arg.length;
      });
      return ERRNO.SUCCESS;
    },
    clock_time_get(
      /** @type {number} */ _id,
      /** @type {bigint} */ _precision,
      /** @type {number} */ timePtr,
    ) {
      view().setBigUint64(timePtr, BigInt(Date.now()) * 1_000_000n, true);
      return ERRNO.SUCCESS;
    },
    fd_close(/** @type {number} */ fd) {
      return open.delete(fd) || fd <= PREOPEN_FD ? ERRNO.SUCCESS : ERRNO.BADF;
    },
    fd_fdstat_get(/** @type {number} */ fd, /** @type {number} */ statPtr) {
      let type;
      if (fd <= 2) type = FILETYPE.CHARACTER_DEVICE;
      else if (fd === PREOPEN_FD) type = FILETYPE.DIRECTORY;
      else if (open.has(fd)) type = FILETYPE.REGULAR_FILE;
      else return ERRNO.BADF;
      view().setUint8(statPtr, type);
      view().setUint16(statPtr + 2, 0, true);
      view().setBigUint64(statPtr + 8, ALL_RIGHTS, true);
      view().setBigUint64(statPtr + 16, ALL_RIGHTS, true);
      return ERRNO.SUCCESS;
    },
    fd_fdstat_set_flags() {
      return ERRNO.SUCCESS;
    },
    fd_prestat_get(/** @type {number} */ fd, /** @type {number} */ prestatPtr) {
      if (fd !== PREOPEN_FD) return ERRNO.BADF;
      view().setUint8(prestatPtr, 0); // a directory
      view().setUint32(prestatPtr + 4, preopenBytes.length, true);
      return ERRNO.SUCCESS;
    },
    fd_prestat_dir_name(
      /** @type {number} */ fd,
      /** @type {number} */ pathPtr,
      /** @type {number} */ length,
    ) {
      if (fd !== PREOPEN_FD) return ERRNO.BADF;
      bytes().set(preopenBytes.subarray(0, length), pathPtr);
      return ERRNO.SUCCESS;
    },
    fd_read(
      /** @type {number} */ _fd,
      /** @type {number} */ _iovs,
      /** @type {number} */ _count,
      /** @type {number} */ readPtr,
    ) {
      view().setUint32(readPtr, 0, true); // nothing to read: Flite takes its text from the arguments
      return ERRNO.SUCCESS;
    },
    fd_seek(
      /** @type {number} */ fd,
      /** @type {bigint} */ offset,
      /** @type {number} */ whence,
      /** @type {number} */ newOffsetPtr,
    ) {
      const entry = open.get(fd);
      if (!entry) return fd <= 2 ? ERRNO.SUCCESS : ERRNO.BADF;
      const base = whence === 0 ? 0 : whence === 1 ? entry.file.position : entry.file.length;
      const position = base + Number(offset);
      if (position < 0) return ERRNO.INVAL;
      entry.file.position = position;
      view().setBigUint64(newOffsetPtr, BigInt(position), true);
      return ERRNO.SUCCESS;
    },
    fd_write(
      /** @type {number} */ fd,
      /** @type {number} */ iovs,
      /** @type {number} */ count,
      /** @type {number} */ writtenPtr,
    ) {
      const chunks = gather(iovs, count);
      const total = chunks.reduce((sum, chunk) => sum + chunk.length, 0);
      if (fd === 1 || fd === 2) {
        if (stderr.length < 4096) stderr += chunks.map((chunk) => decoder.decode(chunk)).join('');
      } else {
        const entry = open.get(fd);
        if (!entry) return ERRNO.BADF;
        for (const chunk of chunks) entry.file.write(chunk);
      }
      view().setUint32(writtenPtr, total, true);
      return ERRNO.SUCCESS;
    },
    path_open(
      /** @type {number} */ dirFd,
      /** @type {number} */ _dirFlags,
      /** @type {number} */ pathPtr,
      /** @type {number} */ pathLength,
      /** @type {number} */ openFlags,
      /** @type {bigint} */ _rightsBase,
      /** @type {bigint} */ _rightsInheriting,
      /** @type {number} */ _fdFlags,
      /** @type {number} */ fdPtr,
    ) {
      if (dirFd !== PREOPEN_FD) return ERRNO.BADF;
      const path = decoder.decode(bytes().slice(pathPtr, pathPtr + pathLength));
      const create = (openFlags & 1) !== 0;
      const truncate = (openFlags & 8) !== 0;
      let file = files.get(path);
      if (!file) {
        if (!create) return ERRNO.NOENT;
        file = new MemoryFile();
        files.set(path, file);
      } else if (truncate) {
        file.length = 0;
      }
      file.position = 0;
      const fd = nextFd++;
      open.set(fd, { path, file });
      view().setUint32(fdPtr, fd, true);
      return ERRNO.SUCCESS;
    },
    proc_exit(/** @type {number} */ code) {
      throw new WasiExit(code);
    },
  };

  return {
    imports: { wasi_snapshot_preview1: wasi },
    /** @param {{ buffer: ArrayBuffer }} exported */
    setMemory(exported) {
      memory = exported;
    },
    /** A file the program wrote, by the path it was given (paths inside the preopen are relative). */
    file(/** @type {string} */ path) {
      const relative = path.startsWith(`${preopenName}/`) ? path.slice(preopenName.length + 1) : path;
      return files.get(relative)?.contents();
    },
    stderr: () => stderr,
  };
}
