import { createServer as createHttpServer, type Server as HttpServer } from 'node:http'
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { Aedes } from 'aedes'
import { WebSocketServer, createWebSocketStream } from 'ws'

export interface BrokerOptions {
  /** TCP port to try first (0 = any free port). Default 1883. */
  tcpPort?: number
  /** WebSocket port to try first (0 = any free port). Default 9001. */
  wsPort?: number
  /** Address to listen on. Default `127.0.0.1`: the demo broker is anonymous, keep it off the network. */
  host?: string
  /** Fail instead of taking a free port when a preferred port is taken. */
  strictPorts?: boolean
  /**
   * A topic on which the broker publishes, retained, who is connected whenever a client connects or
   * disconnects: `{"connected": 8, "clients": ["dashboard-3f9a1c", "sim-kitchen-…", …]}`. The page shows it.
   */
  clientsTopic?: string
}

/** The payload on {@link BrokerOptions.clientsTopic}. */
export interface BrokerClients {
  connected: number
  /** The connected clients' ids, sorted. */
  clients: string[]
}

export interface EmbeddedBroker {
  readonly tcpPort: number
  readonly wsPort: number
  /** `mqtt://127.0.0.1:PORT`, for Node clients (the simulator). */
  readonly tcpUrl: string
  /** `ws://127.0.0.1:PORT`, for the page. */
  readonly wsUrl: string
  /** Clients connected right now. */
  readonly connectedClients: number
  /** Ids of the connected clients. */
  clientIds(): string[]
  /**
   * Drops a client's connection without a DISCONNECT, as a power cut would: the broker then publishes the
   * client's last will. Returns false when no such client is connected.
   */
  dropClient(clientId: string): boolean
  /**
   * The broker stops answering a client: what it writes to that connection is dropped (the client's packets
   * still arrive), as a connection that died silently looks to the client, say after a laptop's sleep. A new
   * connection of the client is answered again. Returns false when no such client is connected.
   */
  silenceClient(clientId: string): boolean
  /** Closes both listeners and every connection. */
  close(): Promise<void>
}

// aedes keeps its connected clients in `clients` (not in its type definitions).
function clientsOf(aedes: Aedes): Record<string, { conn: Duplex }> {
  return (aedes as unknown as { clients: Record<string, { conn: Duplex }> }).clients
}

/** Listens on `port`, or on a free port when `port` is taken (unless `strict`). Resolves with the port. */
function listen(server: NetServer | HttpServer, port: number, host: string, strict: boolean): Promise<number> {
  return new Promise((resolve, reject) => {
    const attempt = (p: number) => {
      const onError = (error: NodeJS.ErrnoException) => {
        server.off('listening', onListening)
        if (error.code === 'EADDRINUSE' && p !== 0 && !strict) attempt(0)
        else reject(error)
      }
      const onListening = () => {
        server.off('error', onError)
        const address = server.address()
        resolve(typeof address === 'object' && address !== null ? address.port : p)
      }
      server.once('error', onError)
      server.once('listening', onListening)
      server.listen(p, host)
    }
    attempt(port)
  })
}

/**
 * An embedded MQTT 3.1.1 broker (aedes) with a TCP listener and a WebSocket listener, on the usual ports
 * 1883 and 9001 when they are free, otherwise on free ones. Nothing is persisted.
 *
 * @example
 * ```ts
 * const broker = await startBroker()
 * console.log(broker.tcpUrl, broker.wsUrl)
 * await broker.close()
 * ```
 */
export async function startBroker(options: BrokerOptions = {}): Promise<EmbeddedBroker> {
  const host = options.host ?? '127.0.0.1'
  const aedes = await Aedes.createBroker()
  // aedes emits per-client errors (a client that vanished mid-packet): they are the client's problem.
  aedes.on('clientError', () => {})
  aedes.on('connectionError', () => {})
  let closing: Promise<void> | undefined
  if (options.clientsTopic) {
    const clientsTopic = options.clientsTopic
    // One publish per burst of connects and disconnects (the simulator's seven clients connect together).
    let scheduled = false
    const publishClients = () => {
      scheduled = false
      if (closing) return
      const clients = Object.keys(clientsOf(aedes)).sort()
      const payload: BrokerClients = { connected: clients.length, clients }
      aedes.publish({ cmd: 'publish', topic: clientsTopic, payload: Buffer.from(JSON.stringify(payload)), qos: 0, retain: true, dup: false }, () => {})
    }
    const changed = () => {
      if (scheduled) return
      scheduled = true
      setImmediate(publishClients)
    }
    aedes.on('client', changed)
    aedes.on('clientDisconnect', changed)
  }

  const sockets = new Set<Socket | Duplex>()
  const track = <T extends Socket | Duplex>(stream: T): T => {
    sockets.add(stream)
    stream.once('close', () => sockets.delete(stream))
    return stream
  }

  const tcp = createNetServer((socket) => aedes.handle(track(socket)))
  const http = createHttpServer((_req, res) => {
    res.writeHead(426, { 'content-type': 'text/plain' }).end('MQTT over WebSocket: connect with ws://\n')
  })
  let tcpPort: number
  let wsPort: number
  try {
    tcpPort = await listen(tcp, options.tcpPort ?? 1883, host, options.strictPorts ?? false)
    wsPort = await listen(http, options.wsPort ?? 9001, host, options.strictPorts ?? false)
  } catch (error) {
    tcp.close()
    http.close()
    await new Promise<void>((resolve) => aedes.close(() => resolve()))
    throw error
  }

  // Attached once the port is settled: a WebSocketServer re-emits its HTTP server's errors as its own, so
  // an EADDRINUSE while listen() tries the preferred port would be an uncaught 'error' (a crash) instead
  // of the fallback to a free port.
  const wss = new WebSocketServer({ server: http })
  wss.on('connection', (socket, request) => {
    const stream = track(createWebSocketStream(socket))
    stream.on('error', () => socket.terminate())
    aedes.handle(stream, request)
  })

  const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host
  return {
    tcpPort,
    wsPort,
    tcpUrl: `mqtt://${urlHost}:${tcpPort}`,
    wsUrl: `ws://${urlHost}:${wsPort}`,
    get connectedClients() {
      return aedes.connectedClients
    },
    clientIds() {
      return Object.keys(clientsOf(aedes))
    },
    dropClient(clientId) {
      const client = clientsOf(aedes)[clientId]
      if (!client) return false
      client.conn.destroy()
      return true
    },
    silenceClient(clientId) {
      const client = clientsOf(aedes)[clientId]
      if (!client) return false
      // Every write "succeeds" and goes nowhere (the callback, if any, still runs, so aedes does not wait on it).
      client.conn.write = ((_chunk: unknown, encoding?: unknown, callback?: unknown) => {
        const done = typeof encoding === 'function' ? encoding : callback
        if (typeof done === 'function') queueMicrotask(() => (done as () => void)())
        return true
      }) as Duplex['write']
      return true
    },
    close() {
      closing ??= (async () => {
        const closed = Promise.all([
          new Promise<void>((resolve) => tcp.close(() => resolve())),
          new Promise<void>((resolve) => wss.close(() => resolve())),
          new Promise<void>((resolve) => http.close(() => resolve())),
        ])
        await new Promise<void>((resolve) => aedes.close(() => resolve()))
        for (const client of wss.clients) client.terminate()
        for (const socket of sockets) socket.destroy()
        http.closeAllConnections()
        await closed
      })()
      return closing
    },
  }
}
