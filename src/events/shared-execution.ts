import { createSourceEventStream, execute, type DocumentNode, type ExecutionArgs, type ExecutionResult } from 'graphql';
import type { RequestContext } from '../auth/context';

/** A viewer question an execution asked through `viewerIs`, with the answer it got. */
type Asked = readonly [userId: string, answer: boolean];

/** What one execution of an operation for an event came to. */
interface Outcome {
  result: ExecutionResult;
  /**
   * The viewer questions it asked: another subscriber that gets the same answers gets the same result.
   * Undefined when it read the viewer some other way (its loaders, the viewer itself) or failed: it is then
   * the subscriber's own.
   */
  asked: Asked[] | undefined;
}

/** One operation (document, name and variables) executed for one event, by the subscribers running it. */
interface Operation {
  document: DocumentNode;
  operationName: string | null | undefined;
  /** The variables as JSON: subscriptions of the same text with the same variables share. */
  variables: string;
  /** Its executions so far, one per distinct set of answers. */
  executions: Promise<Outcome>[];
  /** Set once one of them read the viewer beyond `viewerIs`: each subscriber then executes for itself, waiting on nobody. */
  personal: boolean;
  /**
   * Settles when `personal` is set. Those waiting on an execution stop waiting at that moment, not when it
   * completes: their own executions then start in the same turn as the first one's, so their lookups (the
   * viewer's memberships, say) still travel in the same batch.
   */
  turnedPersonal: Promise<void>;
  /** Sets `personal` and settles `turnedPersonal`. */
  markPersonal(): void;
}

/**
 * Per event payload, the executions made for it so far. A hub pushes one payload object to every local
 * subscriber, so the executions live exactly as long as some subscriber has not taken the event yet.
 */
const operationsByEvent = new WeakMap<object, Operation[]>();

/** The properties of a context that no result depends on: reading them keeps an execution shareable. */
const neutral = new Set<string | symbol>(['log']);

/**
 * A drop-in for graphql's `subscribe` (graphql-ws's `subscribe` option) that executes each event once per
 * distinct operation and viewer answers instead of once per subscriber: a message to a 3,000-member group
 * is then a handful of executions per push node rather than one per socket.
 *
 * Sharing is decided by what an execution actually read of its context, never by a list of fields: an
 * execution whose resolvers only asked `viewerIs(userId)` (see auth/context.ts) is reused by every subscriber
 * of the same document, operation and variables whose viewer gives the same answers; one that read the
 * viewer, its loaders or anything else the context holds but the logger, or that produced errors, stays its
 * subscriber's own. Each subscriber therefore gets exactly what its own execution would have given.
 * Ordering is untouched: each subscription still takes its events one after the other.
 */
export async function subscribeSharingExecutions(args: ExecutionArgs): Promise<AsyncGenerator<ExecutionResult, void, void> | ExecutionResult> {
  const source = await createSourceEventStream(args);
  if (!isAsyncIterable(source)) return source;
  const iterator = source[Symbol.asyncIterator]();
  const variables = JSON.stringify(args.variableValues ?? null);
  const close = async (): Promise<IteratorResult<ExecutionResult, void>> => {
    await iterator.return?.();
    return { value: undefined, done: true };
  };
  const generator: AsyncGenerator<ExecutionResult, void, void> = {
    async next() {
      const event = await iterator.next();
      if (event.done) return { value: undefined, done: true };
      try {
        return { value: await resultFor(event.value, args, variables), done: false };
      } catch (err) {
        await close();
        throw err;
      }
    },
    return: close,
    async throw(err: unknown) {
      await close();
      throw err;
    },
    [Symbol.asyncIterator]() {
      return generator;
    },
  };
  return generator;
}

/** This subscriber's result for `event`: a matching execution's if there is one, else its own. */
async function resultFor(event: unknown, args: ExecutionArgs, variables: string): Promise<ExecutionResult> {
  const context = args.contextValue as RequestContext;
  if (typeof event !== 'object' || event === null) return (await executeFor(event, args, context)).result;
  let operations = operationsByEvent.get(event);
  if (!operations) operationsByEvent.set(event, (operations = []));
  const { document, operationName } = args;
  let operation = operations.find((o) => o.document === document && o.operationName === operationName && o.variables === variables);
  if (!operation) operations.push((operation = newOperation(document, operationName, variables)));
  // Executions may be added while this one waits on an earlier one: the length is read on every turn.
  for (let i = 0; i < operation.executions.length && !operation.personal; i++) {
    // Another subscriber's failure is not this one's: it then executes for itself.
    const outcome = await Promise.race([operation.executions[i]!.catch(() => undefined), operation.turnedPersonal]);
    if (operation.personal) break;
    if (!outcome?.asked) operation.markPersonal();
    else if (outcome.asked.every(([userId, answer]) => (context.viewer?.userId === userId) === answer)) return outcome.result;
  }
  const outcome = executeFor(event, args, context, operation.personal ? undefined : operation);
  if (!operation.personal) operation.executions.push(outcome);
  return (await outcome).result;
}

function newOperation(document: DocumentNode, operationName: string | null | undefined, variables: string): Operation {
  let settle!: () => void;
  const operation: Operation = {
    document,
    operationName,
    variables,
    executions: [],
    personal: false,
    turnedPersonal: new Promise<void>((resolve) => (settle = resolve)),
    markPersonal() {
      operation.personal = true;
      settle();
    },
  };
  return operation;
}

/**
 * Executes the operation for one event, recording what of the context it read; the first read that makes it
 * personal marks `operation` so at once.
 */
async function executeFor(event: unknown, args: ExecutionArgs, context: RequestContext, operation?: Operation): Promise<Outcome> {
  const asked: Asked[] = [];
  let personal = false;
  const turnPersonal = () => {
    if (personal) return;
    personal = true;
    if (operation && !operation.personal) operation.markPersonal();
  };
  const viewerIs = (userId: string): boolean => {
    const answer = context.viewer?.userId === userId;
    asked.push([userId, answer]);
    return answer;
  };
  const traced = new Proxy(context, {
    get(target, key) {
      if (key === 'viewerIs') return viewerIs;
      // What the context does not have reads as undefined for every subscriber (Apollo's instrumentation of
      // the shared schema looks for its own symbols on every field).
      if (!neutral.has(key) && key in target) turnPersonal();
      return Reflect.get(target, key);
    },
    has(target, key) {
      turnPersonal();
      return Reflect.has(target, key);
    },
    ownKeys(target) {
      turnPersonal();
      return Reflect.ownKeys(target);
    },
  });
  const result = await execute({ ...args, rootValue: event, contextValue: traced });
  return { result, asked: personal || result.errors ? undefined : asked };
}

function isAsyncIterable(value: object): value is AsyncIterable<unknown> {
  return Symbol.asyncIterator in value;
}
