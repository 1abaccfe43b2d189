// What the demo and the bench started (clusters, servers, children, temp dirs), stopped in reverse
// order exactly once: when the script finishes, or on Ctrl-C / SIGTERM — then the script exits
// 130 / 143 once everything is gone. Resources still being started when the signal comes are
// awaited and stopped too, so an interrupted `initdb` leaves no directory behind.

type Step = { label: string; stop: () => Promise<unknown> };

/** The stack of things to stop; see installSignalHandlers. */
export class Cleanup {
  private readonly steps: Step[] = [];
  private readonly starting = new Set<Promise<unknown>>();
  private done: Promise<void> | undefined;
  private draining = false;
  private readonly controller = new AbortController();

  /** Aborted when cleaning up begins: pass it to children (execa's cancelSignal) so they stop too. */
  readonly signal = this.controller.signal;

  /** The signal that interrupted the script, if one did. */
  interruptedBy: NodeJS.Signals | undefined;

  /** Awaits `starting`, registers `stop` for its result and returns it. */
  async acquire<T>(label: string, starting: Promise<T>, stop: (value: T) => Promise<unknown>): Promise<T> {
    this.starting.add(starting);
    try {
      const value = await starting;
      if (this.draining) {
        // Started after the cleanup went past the starting ones: stop it now and go no further
        // (the signal handler exits the process once the cleanup is done).
        await stop(value).catch(() => undefined);
        await new Promise<never>(() => undefined);
      }
      this.steps.push({ label, stop: () => stop(value) });
      return value;
    } finally {
      this.starting.delete(starting);
    }
  }

  /** Stops everything, once; later calls return the same promise. */
  run(): Promise<void> {
    this.done ??= this.stopAll();
    return this.done;
  }

  /** On SIGINT/SIGTERM: say so, stop everything, exit 128 + the signal's number. */
  installSignalHandlers(say: (text: string) => void = (text) => process.stderr.write(`${text}\n`)): void {
    const codes: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 130, SIGTERM: 143 };
    for (const [name, code] of Object.entries(codes) as [NodeJS.Signals, number][]) {
      process.on(name, () => {
        if (this.interruptedBy) return; // a second Ctrl-C: cleaning up already
        this.interruptedBy = name;
        process.exitCode = code;
        say(`${name}: stopping what was started and removing temp files`);
        void this.run().then(() => process.exit(code));
      });
    }
  }

  private async stopAll(): Promise<void> {
    this.controller.abort();
    // Whatever is half-started finishes starting (or fails) and registers its stop first.
    await Promise.allSettled([...this.starting]);
    this.draining = true;
    for (const step of this.steps.reverse()) {
      try {
        await step.stop();
      } catch (error) {
        process.stderr.write(`cleanup: ${step.label}: ${(error as Error).message}\n`);
      }
    }
  }
}
