// `template` — a text built from other columns of the same row: `user_{id}@example.invalid`.
import { z } from 'zod';
import { type Strategy, TEXT_TYPES } from './strategy.js';

/** Writes the template with `{column}` replaced by that column's original value in the row. */
export const templateStrategy: Strategy<'template', string> = {
  name: 'template',
  options: z.string().min(1),
  writes: 'text-like columns',
  accepts: (type) => TEXT_TYPES.has(type),
  leakCheckable: true,
  readsRow: () => true,
  compile: (template) => {
    const parts = template.split(/(\{[^}]+\})/);
    return (value, row) => {
      if (value === null) return null;
      return parts
        .map((part) => (part.startsWith('{') && part.endsWith('}') ? (row(part.slice(1, -1)) ?? '') : part))
        .join('');
    };
  },
};
