/** One queued call: its input and how to settle the promise the caller holds. */
export interface BatchItem<In, Out> {
  readonly input: In;
  resolve(value: Out): void;
  reject(error: unknown): void;
}

/** How a {@link Batcher} may overlap its flushes. */
export interface BatcherOptions<In> {
  /**
   * The most flushes running at once. A flush starts when one ends or when inputs arrive while fewer run, so
   * above 1 a round trip's wait is shared by several batches instead of queueing behind one.
   * @default 1
   */
  maxInFlight?: number;
  /**
   * What orders inputs: inputs with the same key reach `flush` in arrival order, and never in two flushes running
   * at once (an input whose key a running flush holds waits for it to end, as do later inputs of that key).
   * Without it, inputs of overlapping flushes keep no order between them.
   * @default none
   */
  keyOf?: (input: In) => string;
}

interface Queued<In, Out> extends BatchItem<In, Out> {
  readonly key: string | undefined;
}

/**
 * Batching of concurrent calls (group commit for writes, one query for many lookups): `push` queues an input and
 * returns its result's promise; queued inputs are handed to `flush` in batches of at most `maxBatch`, in arrival
 * order, by default one batch at a time (see {@link BatcherOptions} for overlapping ones). While the flushes
 * allowed run, new inputs wait for the next one; a batcher with room starts a flush on the next turn of the event
 * loop (setImmediate), so everything queued in the same turn travels together.
 *
 * `flush` settles each item it is given; if it throws, or returns with items unsettled, those items are
 * rejected (with its error, or with a generic one), so no caller is ever left waiting.
 */
export class Batcher<In, Out> {
  private queue: Array<Queued<In, Out>> = [];
  private running = 0;
  private scheduled = false;
  /** Keys of the inputs that running flushes hold. */
  private readonly held = new Set<string>();
  private readonly maxInFlight: number;
  private readonly keyOf: ((input: In) => string) | undefined;

  constructor(
    private readonly flush: (batch: Array<BatchItem<In, Out>>) => Promise<void>,
    private readonly maxBatch: number,
    options: BatcherOptions<In> = {},
  ) {
    if (!Number.isInteger(maxBatch) || maxBatch < 1) throw new Error('maxBatch must be a whole number ≥ 1');
    this.maxInFlight = options.maxInFlight ?? 1;
    if (!Number.isInteger(this.maxInFlight) || this.maxInFlight < 1) throw new Error('maxInFlight must be a whole number ≥ 1');
    this.keyOf = options.keyOf;
  }

  push(input: In): Promise<Out> {
    return new Promise<Out>((resolve, reject) => {
      this.queue.push({ input, resolve, reject, key: this.keyOf?.(input) });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.running >= this.maxInFlight || this.scheduled || this.queue.length === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.start();
    });
  }

  /** Starts flushes while there is room and something to flush that no running flush holds. */
  private start(): void {
    while (this.running < this.maxInFlight && this.queue.length > 0) {
      const batch = this.take();
      if (batch.length === 0) return;
      void this.run(batch);
    }
  }

  /** The next batch: the oldest inputs, skipping those whose key a running flush holds. */
  private take(): Array<Queued<In, Out>> {
    if (this.held.size === 0) return this.queue.splice(0, this.maxBatch);
    const batch: Array<Queued<In, Out>> = [];
    const rest: Array<Queued<In, Out>> = [];
    for (let i = 0; i < this.queue.length; i++) {
      const item = this.queue[i]!;
      if (batch.length === this.maxBatch) {
        rest.push(...this.queue.slice(i));
        break;
      }
      if (item.key !== undefined && this.held.has(item.key)) rest.push(item);
      else batch.push(item);
    }
    this.queue = rest;
    return batch;
  }

  private async run(batch: Array<Queued<In, Out>>): Promise<void> {
    this.running++;
    const keys = new Set<string>();
    for (const item of batch) if (item.key !== undefined) keys.add(item.key);
    for (const key of keys) this.held.add(key);
    let settled = 0;
    const guarded = batch.map((item) => {
      let done = false;
      const once =
        <T>(fn: (v: T) => void) =>
        (v: T) => {
          if (done) return;
          done = true;
          settled++;
          fn(v);
        };
      return { input: item.input, resolve: once(item.resolve), reject: once(item.reject) };
    });
    try {
      await this.flush(guarded);
      if (settled < guarded.length) {
        const error = new Error('batch ended without settling this call');
        for (const item of guarded) item.reject(error);
      }
    } catch (error) {
      for (const item of guarded) item.reject(error);
    } finally {
      this.running--;
      for (const key of keys) this.held.delete(key);
      this.schedule();
    }
  }
}
