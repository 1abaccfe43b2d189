// `hash` — a keyed hash of the value, shaped to the column: digits for integer columns, a UUID for
// uuid, hex (16 characters, or `length`) for text.
import { z } from 'zod';
import { HEX_DIGIT } from '../prf/hmac-sha256.js';
import { LANE_BYTES } from '../prf/hmac-sha256-wasm.js';
import { remainder } from '../prf/keyed-prf.js';
import {
  type BytesMasker,
  type FieldSink,
  INTEGER_TYPES,
  type Strategy,
  type StrategyContext,
  TEXT_TYPES,
} from './strategy.js';

interface HashOptions {
  length?: number | undefined;
}

/** Keyed, deterministic, and distinct for distinct inputs in practice. */
export const hashStrategy: Strategy<'hash', HashOptions> = {
  name: 'hash',
  options: z.strictObject({ length: z.number().int().min(4).optional() }),
  bare: {},
  writes: 'text, integer and uuid columns',
  accepts: (type) => TEXT_TYPES.has(type) || INTEGER_TYPES.has(type) || type === 'uuid',
  leakCheckable: true,
  memoize: true,
  readsRow: () => false,
  misfit: (options, column) => {
    if (!TEXT_TYPES.has(column.type) || column.maxLength === undefined) return undefined;
    const length = options.length ?? 16;
    if (length <= column.maxLength) return undefined;
    return `hash writes ${length} characters and the column takes ${column.maxLength}`;
  },
  compile: (options, ctx) => hashMasker(ctx, options.length),
  compileBytes: (options, ctx) => hashBytesMasker(ctx, options.length),
};

/** The integer ceiling of a hashed integer column (values 1..max). */
function integerCeiling(type: string): number {
  return type === 'smallint' || type === 'int2' ? 32_767 : 2_147_483_647;
}

/** hashMasker on a plain field's bytes: the MAC's hex digits, or the number, written as they come. */
function hashBytesMasker(ctx: StrategyContext, length: number | undefined): BytesMasker | undefined {
  const { prf } = ctx;
  if (INTEGER_TYPES.has(ctx.type)) {
    const max = integerCeiling(ctx.type);
    const number: BytesMasker = (source, start, end, sink) => {
      const digits = String(1 + remainder(prf.uint32Of(source, start, end), max));
      const target = sink.reserve(digits.length);
      for (let index = 0; index < digits.length; index++)
        target[sink.length + index] = digits.charCodeAt(index);
      sink.length += digits.length;
    };
    number.utf8 = true;
    number.ascii = true;
    return number;
  }
  if (!TEXT_TYPES.has(ctx.type)) return undefined;
  const digits = Math.min(length ?? 16, 64);
  const one: BytesMasker = (source, start, end, sink) => {
    prf.hexInto(source, start, end, sink.reserve(digits), sink.length, digits);
    sink.length += digits;
  };
  // The MAC is of the value's UTF-8 bytes: any field without an escape is those bytes.
  one.utf8 = true;
  one.ascii = true;
  const batch = ctx.deferred ? prf.macBatch() : undefined;
  if (!batch) return one;
  // Four values at once: each short value's digits are reserved in the sink and written when
  // the fourth comes (or at the flush), from the four MACs of one SIMD pass.
  const owed = new Int32Array(4);
  let count = 0;
  const pay = (sink: FieldSink) => {
    batch.run();
    const target = sink.reserve(0);
    for (let lane = 0; lane < count; lane++) {
      const at = owed[lane] as number;
      for (let digit = 0; digit < digits; digit++) {
        const word = batch.word(lane, digit >>> 3);
        target[at + digit] = HEX_DIGIT[(word >>> (28 - 4 * (digit & 7))) & 15] as number;
      }
    }
    count = 0;
  };
  // The sink the owed digits are in: a new one means the last block was abandoned (an error
  // mid-block) and what it owed goes with it.
  let owedTo: FieldSink | undefined;
  const four: BytesMasker = (source, start, end, sink) => {
    if (end - start > LANE_BYTES) return one(source, start, end, sink);
    if (sink !== owedTo) {
      count = 0;
      owedTo = sink;
    }
    batch.lane(count, source, start, end);
    sink.reserve(digits);
    owed[count++] = sink.length;
    sink.length += digits;
    if (count === 4) pay(sink);
  };
  four.utf8 = true;
  four.ascii = true;
  four.flush = (sink) => {
    if (count > 0 && sink === owedTo) pay(sink);
  };
  return four;
}

function hashMasker(ctx: StrategyContext, length: number | undefined) {
  const { prf } = ctx;
  if (INTEGER_TYPES.has(ctx.type)) {
    const max = integerCeiling(ctx.type);
    return (value: string | null) => (value === null ? null : String(1 + remainder(prf.uint32(value), max)));
  }
  if (ctx.type === 'uuid') {
    return (value: string | null) => {
      if (value === null) return null;
      const hex = prf.hex(value, 32);
      return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
    };
  }
  return (value: string | null) => (value === null ? null : prf.hex(value, length ?? 16));
}
