/**
 * Runs many callers' requests as one statement: what arrives while `inFlight` statements run
 * waits and goes together into the next one, so under load a round trip (and, for writes, a
 * commit) serves many callers, and alone a caller waits for nobody. `run` answers the inputs
 * in order; if it fails, every caller of that batch gets the error.
 */
export function createBatcher<I, O>(run: (inputs: I[]) => Promise<O[]>, options: { maxBatch?: number; inFlight?: number } = {}): (input: I) => Promise<O> {
  const maxBatch = options.maxBatch ?? 200;
  const inFlight = options.inFlight ?? 1;
  let waiting: Array<{ input: I; resolve(o: O): void; reject(err: unknown): void }> = [];
  let running = 0;

  async function drain(): Promise<void> {
    running++;
    try {
      while (waiting.length > 0) {
        const batch = waiting.slice(0, maxBatch);
        waiting = waiting.slice(batch.length);
        try {
          const outputs = await run(batch.map((b) => b.input));
          batch.forEach((b, i) => b.resolve(outputs[i]!));
        } catch (err) {
          for (const b of batch) b.reject(err);
        }
      }
    } finally {
      running--;
    }
  }

  return (input) =>
    new Promise<O>((resolve, reject) => {
      waiting.push({ input, resolve, reject });
      if (running < inFlight) void drain();
    });
}
