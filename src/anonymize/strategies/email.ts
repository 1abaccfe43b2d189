// `email` — u_<64-bit keyed token>@domain: valid, deterministic, unique in practice (collision odds
// ~n²/2^65). The token is of the trimmed, lowercased address, so the same mailbox joins however it
// was capitalised — and two values differing only by case become the same address.
import { z } from 'zod';
import { type BytesMasker, type Strategy, TEXT_TYPES } from './strategy.js';

interface EmailOptions {
  domain?: string | undefined;
}

/** `u_` + 16 hex digits + `@` + the domain. */
export const emailLength = (domain: string): number => 19 + domain.length;

/** Writes a deterministic e-mail address under anonymize.domain (or its own domain). */
export const emailStrategy: Strategy<'email', EmailOptions> = {
  name: 'email',
  options: z.strictObject({ domain: z.string().optional() }),
  bare: {},
  writes: 'text-like columns',
  accepts: (type) => TEXT_TYPES.has(type),
  leakCheckable: true,
  memoize: true,
  readsRow: () => false,
  misfit: (options, column) => {
    // The domain may come from anonymize.domain; the default is checked by the caller.
    if (column.maxLength === undefined || options.domain === undefined) return undefined;
    const length = emailLength(options.domain);
    return length > column.maxLength
      ? `email writes ${length} characters and the column takes ${column.maxLength}`
      : undefined;
  },
  compile: (options, ctx) => {
    const { prf } = ctx;
    const domain = options.domain ?? ctx.domain;
    return (value) => (value === null ? null : `u_${prf.token(value.trim().toLowerCase())}@${domain}`);
  },
  compileBytes: (options, ctx) => {
    // The PRF captured itself, not the context object: a closure reading ctx.prf checked the
    // context's map a value, and the contexts of two tables need not share one.
    const { prf } = ctx;
    const domain = options.domain ?? ctx.domain;
    // The address is written as it comes when the domain is ASCII and needs no escape.
    if (!/^[\x20-\x5b\x5d-\x7e]*$/.test(domain)) return undefined;
    const tail = Buffer.from(`@${domain}`, 'latin1');
    const masker: BytesMasker = (source, start, end, sink) => {
      // trim() and toLowerCase() on a plain field's bytes: spaces are the only whitespace a plain
      // field can hold at its ends (tab and the other controls come escaped), A–Z the only capitals.
      // Folded straight into the PRF's message buffer.
      let from = start;
      let to = end;
      while (from < to && source[from] === 32) from++;
      while (to > from && source[to - 1] === 32) to--;
      const folded = prf.scratch(to - from);
      for (let index = from; index < to; index++) {
        const code = source[index] as number;
        folded[index - from] = code >= 65 && code <= 90 ? code + 32 : code;
      }
      const target = sink.reserve(18 + tail.length);
      const at = sink.length;
      target[at] = 117; // u
      target[at + 1] = 95; // _
      prf.tokenOfScratchInto(to - from, target, at + 2);
      sink.length = at + 18;
      sink.copy(tail, 0, tail.length);
    };
    masker.ascii = true;
    // An address is `u_` + its token's 16 hex digits (high word first) + its one domain: the
    // token is the address, and the PRF has it at hand where the digest would read 35 bytes.
    let high = 0;
    masker.key = {
      last: () => {
        high = prf.lastTokenHigh;
        return prf.lastTokenLow;
      },
      of: (out) => {
        high = Number.parseInt(out.slice(2, 10), 16);
        return Number.parseInt(out.slice(10, 18), 16);
      },
      high: () => high,
    };
    return masker;
  },
};
