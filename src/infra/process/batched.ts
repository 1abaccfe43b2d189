// Chunks of a child's output gathered into bigger ones. pg_restore writes its COPY text 4 KiB at
// a time and a pipe hands it over as written (measured: ~50,000 chunks of ~4.5 KiB for a 250 MB
// table): per chunk the masking paid a line cut, an output buffer, and a CopyData message and a
// socket write on the COPY connection. Gathered, those costs are per 256 KiB.

/** `chunks` regrouped into Buffers of at least `bytes` (the last one may be smaller). */
export async function* batched(chunks: AsyncIterable<Buffer>, bytes = 256 * 1024): AsyncGenerator<Buffer> {
  let parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of chunks) {
    parts.push(chunk);
    size += chunk.length;
    if (size >= bytes) {
      yield parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, size);
      parts = [];
      size = 0;
    }
  }
  if (size > 0) yield parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, size);
}
