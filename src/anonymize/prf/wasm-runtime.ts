// The WebAssembly kernels' common part: the few declarations used (the project's TypeScript libs
// have no DOM types), and instantiating a module from its generated base64.

/** A module's linear memory. */
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
}
/** WebAssembly, where the runtime has it. */
export const webAssembly = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;

/** One page of linear memory. */
export const PAGE = 65_536;

const modules = new Map<string, object>();

/** A new instance of the module in `base64` (compiled once per thread). */
export function instantiate<Exports>(base64: string): Exports {
  if (!webAssembly) throw new Error('this runtime has no WebAssembly');
  let module = modules.get(base64);
  if (!module) {
    module = new webAssembly.Module(Buffer.from(base64, 'base64'));
    modules.set(base64, module);
  }
  return new webAssembly.Instance(module, {}).exports as Exports;
}

/** Grows `memory` so that it holds at least `bytes` bytes. */
export function reserveMemory(memory: WasmMemory, bytes: number): void {
  if (bytes > memory.buffer.byteLength) memory.grow(Math.ceil((bytes - memory.buffer.byteLength) / PAGE));
}
