import { once } from 'node:events'
import { createConnection, createServer, type AddressInfo, type Server, type Socket } from 'node:net'

/**
 * A TCP proxy on a free loopback port in front of a broker, for fault injection: `cut()` drops every
 * connection mid-stream (both sides see a reset), `refuse` makes new connections fail.
 */
export class TcpProxy {
  private readonly sockets = new Set<Socket>()
  /** While true, new connections are accepted and closed at once. */
  refuse = false
  /** Connections accepted so far. */
  connections = 0

  private constructor(private readonly server: Server, readonly port: number) {}

  static async start(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpProxy> {
    let proxy: TcpProxy | undefined
    const server = createServer((client) => {
      if (!proxy) return client.destroy()
      proxy.connections += 1
      if (proxy.refuse) return client.destroy()
      const upstream = createConnection({ port: targetPort, host: targetHost })
      for (const socket of [client, upstream]) {
        proxy.sockets.add(socket)
        socket.on('close', () => proxy?.sockets.delete(socket))
        socket.on('error', () => undefined) // a cut is the point; both ends are torn down below
      }
      client.pipe(upstream)
      upstream.pipe(client)
      client.on('close', () => upstream.destroy())
      upstream.on('close', () => client.destroy())
    })
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    proxy = new TcpProxy(server, (server.address() as AddressInfo).port)
    return proxy
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`
  }

  /** Drops every open connection at once, as a network failure would. */
  cut(): void {
    for (const socket of this.sockets) socket.resetAndDestroy()
    this.sockets.clear()
  }

  async close(): Promise<void> {
    this.cut()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }
}
