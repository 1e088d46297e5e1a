import type { ImEventPayload } from '../events/event.types';

/** What a stream tells the one that made it; one object for all streams, so a stream holds no closures. */
export interface StreamOwner<T> {
  /** Called once when the stream's backlog would pass its limit. */
  overflowed(stream: EventStream<T>): void;
  /** Called once when the stream ends, however it ends. */
  ended(stream: EventStream<T>): void;
}

/**
 * One subscription's queue of events: an async iterator that the transport drains at the socket's pace.
 * Pushing never waits. A stream whose backlog reaches `limit` is a client that cannot keep up; it is
 * ended through its owner's `overflowed` instead of letting one slow socket hold memory or stall dispatch for everyone.
 */
export class EventStream<T = unknown> implements AsyncIterableIterator<ImEventPayload> {
  private buffer: ImEventPayload[] = [];
  private waiting: ((result: IteratorResult<ImEventPayload>) => void) | undefined;
  private ended = false;
  /** Set when the backlog passed `limit`; later pushes are dropped (even once the reader
   * catches up, which would leave a gap), since the socket is being closed. */
  private overflowed = false;
  /** Set by {@link endAfterDrain}: called once the backlog has gone out, instead of waiting for more. */
  private drained: (() => void) | undefined;

  /**
   * @param limit largest backlog before the stream counts as overflowing
   * @param owner told when it overflows and when it ends
   * @param of what the stream belongs to, for the owner
   */
  constructor(
    private readonly limit: number,
    private readonly owner: StreamOwner<T>,
    readonly of: T,
  ) {}

  /** Queues an event without waiting; false when the stream has ended or overflowed. */
  push(event: ImEventPayload): boolean {
    if (this.ended || this.overflowed) return false;
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = undefined;
      resolve({ value: event, done: false });
      return true;
    }
    if (this.buffer.length >= this.limit) {
      // Once: the socket is being closed, and every later push would otherwise warn and close again.
      this.overflowed = true;
      this.owner.overflowed(this);
      return false;
    }
    this.buffer.push(event);
    return true;
  }

  /** Lets what is queued go out, then calls `then` (to close the socket after a last event). */
  endAfterDrain(then: () => void): void {
    if (this.ended) return then();
    this.drained = then;
    if (this.waiting) this.finishDrain();
  }

  next(): Promise<IteratorResult<ImEventPayload>> {
    const value = this.buffer.shift();
    if (value !== undefined) return Promise.resolve({ value, done: false });
    if (this.drained) this.finishDrain();
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => (this.waiting = resolve));
  }

  return(): Promise<IteratorResult<ImEventPayload>> {
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  /** Ends the stream; a pending `next` resolves as done. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.buffer = [];
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.({ value: undefined, done: true });
    this.owner.ended(this);
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<ImEventPayload> {
    return this;
  }

  private finishDrain(): void {
    const then = this.drained;
    this.drained = undefined;
    this.end();
    then?.();
  }
}
