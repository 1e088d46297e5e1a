/** One queued call: its input and how to settle the promise the caller holds. */
export interface BatchItem<In, Out> {
  readonly input: In;
  resolve(value: Out): void;
  reject(error: unknown): void;
}

/**
 * Batching of concurrent calls (group commit for writes, one query for many lookups): `push` queues an input and returns its result's promise; queued inputs are handed to `flush` in
 * batches of at most `maxBatch`, in arrival order, one batch at a time. While a batch is being flushed new inputs
 * wait for the next one; an idle batcher starts a flush on the next turn of the event loop (setImmediate), so
 * everything queued in the same turn travels together.
 *
 * `flush` settles each item it is given; if it throws, or returns with items unsettled, those items are
 * rejected (with its error, or with a generic one), so no caller is ever left waiting.
 */
export class Batcher<In, Out> {
  private queue: Array<BatchItem<In, Out>> = [];
  private flushing = false;
  private scheduled = false;

  constructor(
    private readonly flush: (batch: Array<BatchItem<In, Out>>) => Promise<void>,
    private readonly maxBatch: number,
  ) {
    if (!Number.isInteger(maxBatch) || maxBatch < 1) throw new Error('maxBatch must be a whole number ≥ 1');
  }

  push(input: In): Promise<Out> {
    return new Promise<Out>((resolve, reject) => {
      this.queue.push({ input, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.flushing || this.scheduled || this.queue.length === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.run();
    });
  }

  private async run(): Promise<void> {
    if (this.flushing || this.queue.length === 0) return;
    this.flushing = true;
    const batch = this.queue.splice(0, this.maxBatch);
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
      this.flushing = false;
      this.schedule();
    }
  }
}
