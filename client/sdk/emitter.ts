/** A listener of one event of an {@link Emitter}. */
export type Listener<T> = (payload: T) => void;

/**
 * A tiny typed event emitter: browsers have EventTarget and Node has EventEmitter, but neither types its
 * payloads per event name, and the SDK must run on both.
 */
export class Emitter<Events extends object> {
  private readonly listeners = new Map<keyof Events, Set<Listener<never>>>();

  /** Adds a listener; returns the function that removes it. */
  on<K extends keyof Events>(event: K, listener: Listener<Events[K]>): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(listener as Listener<never>);
    return () => set.delete(listener as Listener<never>);
  }

  /**
   * Calls every listener of `event`. A listener that throws must not stop the others nor the SDK's own
   * bookkeeping (a cursor is saved right after the app got its messages): its error goes to `onListenerError`.
   */
  emit<K extends keyof Events>(event: K, payload: Events[K], onListenerError: (error: unknown) => void): void {
    const set = this.listeners.get(event);
    if (!set) return;
    for (const listener of [...set]) {
      try {
        (listener as Listener<Events[K]>)(payload);
      } catch (error) {
        onListenerError(error);
      }
    }
  }
}
