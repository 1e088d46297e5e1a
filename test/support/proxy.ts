import net from 'node:net';

/** A TCP proxy in front of a server, for tests of what a client does when the network misbehaves. */
export interface TcpProxy {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** `ws://127.0.0.1:<port>/graphql` */
  wsUrl: string;
  /**
   * Stops forwarding, as a network that went away without a FIN: every byte of the open connections, and of
   * those opened while it lasts, is swallowed and nothing is closed. Those connections never recover.
   */
  blackhole(): void;
  /**
   * As a server that went down: closes every open connection, and each one opened while it lasts at once
   * (its clients see resets and refusals, not silence).
   */
  cut(): void;
  /** Forwards again, for connections opened from now on. */
  restore(): void;
  /**
   * Cuts each connection, with probability `p`, as the server's answer starts to come back: the request
   * reached the server, its answer never reaches the client (0 turns it off).
   */
  loseAnswers(p: number): void;
  /** How many answers were lost so far. */
  readonly lost: number;
  close(): Promise<void>;
}

/** Starts a proxy to `target` (an `http://host:port` URL) on an ephemeral port. */
export async function startProxy(target: string): Promise<TcpProxy> {
  const { hostname, port } = new URL(target);
  const open = new Set<net.Socket>();
  let dropping = false;
  let refusing = false;
  let loseRate = 0;
  let lost = 0;
  const dead = new WeakSet<net.Socket>();
  const server = net.createServer((client) => {
    if (refusing) return void client.destroy();
    const upstream = net.connect(Number(port), hostname);
    for (const socket of [client, upstream]) {
      open.add(socket);
      socket.on('close', () => open.delete(socket));
      socket.on('error', () => undefined);
    }
    if (dropping) dead.add(client);
    client.on('data', (chunk) => void (dead.has(client) || upstream.write(chunk)));
    upstream.on('data', (chunk) => {
      if (dead.has(client)) return;
      if (Math.random() < loseRate) {
        lost++;
        client.destroy();
        upstream.destroy();
        return;
      }
      client.write(chunk);
    });
    client.on('close', () => dead.has(client) || upstream.destroy());
    upstream.on('close', () => dead.has(client) || client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = `127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  return {
    url: `http://${address}`,
    wsUrl: `ws://${address}/graphql`,
    blackhole() {
      dropping = true;
      for (const socket of open) dead.add(socket);
    },
    cut() {
      refusing = true;
      for (const socket of open) socket.destroy();
    },
    restore() {
      dropping = false;
      refusing = false;
    },
    loseAnswers(p) {
      loseRate = p;
    },
    get lost() {
      return lost;
    },
    async close() {
      for (const socket of open) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
