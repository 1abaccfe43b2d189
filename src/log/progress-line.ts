// One self-rewriting status line on stderr, for people watching a terminal: download bytes,
// index build phases. Only on a TTY; logs carry the same figures for everyone else.

/** A 25-cell bar for a fraction in [0, 1]. */
export function bar(fraction: number, width = 25): string {
  const filled = Math.max(0, Math.min(width, Math.floor(fraction * width)));
  return '█'.repeat(filled).padEnd(width, '░');
}

export interface ProgressLine {
  /** Rewrites the line (at most every 200 ms). */
  update(text: string): void;
  /** Clears the line. */
  done(): void;
}

/** A progress line on stderr when it is a TTY; otherwise one that does nothing. */
export function progressLine(stream: NodeJS.WriteStream = process.stderr): ProgressLine {
  if (!stream.isTTY) return { update: () => undefined, done: () => undefined };
  let last = Number.NEGATIVE_INFINITY;
  let shown = false;
  return {
    update(text) {
      const now = performance.now();
      if (now - last < 200) return;
      last = now;
      shown = true;
      stream.write(`\r\u001b[2K  ${text}`);
    },
    done() {
      if (shown) stream.write('\r\u001b[2K');
      shown = false;
    },
  };
}
