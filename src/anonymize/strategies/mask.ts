// `mask` — keeps the first and last characters and replaces the rest (`keepLast: 4` on a card
// number). A value no longer than what would be kept is masked whole.
import { z } from 'zod';
import { type BytesMasker, type Strategy, TEXT_TYPES } from './strategy.js';

const maskOptions = z.strictObject({
  keepFirst: z.number().int().min(0).default(0),
  keepLast: z.number().int().min(0).default(0),
  char: z.string().length(1).default('*'),
});

type MaskOptions = z.output<typeof maskOptions>;

const SURROGATE = /[\uD800-\uDFFF]/;

/** Replaces all but the kept characters with `char`; same length as the original. */
export const maskStrategy: Strategy<'mask', MaskOptions, z.input<typeof maskOptions>> = {
  name: 'mask',
  options: maskOptions,
  writes: 'text-like columns',
  accepts: (type) => TEXT_TYPES.has(type),
  leakCheckable: true,
  readsRow: () => false,
  misfit: (_options, column) =>
    column.unique
      ? 'the column has a unique index and mask gives values that differ only in the masked part the same output'
      : undefined,
  compile: (rule) => {
    const keep = rule.keepFirst + rule.keepLast;
    return (value) => {
      if (value === null) return null;
      if (!SURROGATE.test(value)) {
        // No characters outside the BMP: UTF-16 units are characters, no array needed.
        if (value.length <= keep) return rule.char.repeat(value.length);
        return (
          value.slice(0, rule.keepFirst) +
          rule.char.repeat(value.length - keep) +
          value.slice(value.length - rule.keepLast)
        );
      }
      const chars = [...value];
      // Never keep everything: a value no longer than what would be kept is masked whole.
      if (chars.length <= keep) return rule.char.repeat(chars.length);
      const middle = chars.length - keep;
      return (
        chars.slice(0, rule.keepFirst).join('') +
        rule.char.repeat(middle) +
        chars.slice(chars.length - rule.keepLast).join('')
      );
    };
  },
  compileBytes: (rule) => {
    // A plain field's bytes are its characters; a mask character that is ASCII and needs no
    // escape is one byte written as it is. Any other takes the string path.
    const char = rule.char.charCodeAt(0);
    if (char > 0x7f || char === 0x5c || (char >= 0x08 && char <= 0x0d)) return undefined;
    const keep = rule.keepFirst + rule.keepLast;
    const masker: BytesMasker = (source, start, end, sink) => {
      const length = end - start;
      if (length <= keep) return sink.repeat(char, length);
      sink.copy(source, start, start + rule.keepFirst);
      sink.repeat(char, length - keep);
      sink.copy(source, end - rule.keepLast, end);
    };
    return masker;
  },
};
