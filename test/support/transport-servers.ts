import { createServer as createHttpServer, type IncomingMessage } from 'node:http'
import { connect, createServer, type Server, type Socket } from 'node:net'
import type { Duplex } from 'node:stream'

/** A listening test server and how to stop it (every socket it holds is destroyed). */
export interface TestServer {
  readonly port: number
  close(): Promise<void>
}

function listen(server: Server, sockets: Set<Duplex>): Promise<TestServer> {
  server.on('connection', (socket: Socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      if (address === null || typeof address === 'string') return reject(new Error('no port'))
      resolve({
        port: address.port,
        close: () =>
          new Promise<void>((done) => {
            for (const socket of sockets) socket.destroy()
            server.close(() => done())
          }),
      })
    })
  })
}

/**
 * An HTTP server in front of a broker's websockets listener, as a reverse proxy with one route: WebSocket
 * upgrades on `path` go through to the broker, everything else gets 404 (what a proxy or a broker with a
 * fixed path, RabbitMQ's /ws or NATS's /mqtt, answers for the wrong path).
 */
export function pathProxy(path: string, brokerWsPort: number): Promise<TestServer> {
  const sockets = new Set<Duplex>()
  const server = createHttpServer((_request, response) => {
    response.statusCode = 404
    response.end('not found')
  })
  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    sockets.add(socket)
    socket.on('error', () => socket.destroy())
    if (request.url !== path) {
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n')
      return
    }
    const upstream = connect(brokerWsPort, '127.0.0.1', () => {
      const headers: string[] = []
      for (let i = 0; i < request.rawHeaders.length; i += 2) headers.push(`${request.rawHeaders[i]}: ${request.rawHeaders[i + 1]}`)
      upstream.write(`GET ${request.url} HTTP/1.1\r\n${headers.join('\r\n')}\r\n\r\n`)
      upstream.write(head)
      socket.pipe(upstream).pipe(socket)
    })
    sockets.add(upstream)
    upstream.on('error', () => socket.destroy())
    socket.on('close', () => upstream.destroy())
  })
  return listen(server, sockets)
}

/** A TCP server that answers every connection with `bytes` at once, whatever it is sent (not HTTP). */
export function rawAnswer(bytes: Uint8Array): Promise<TestServer> {
  const sockets = new Set<Duplex>()
  const server = createServer((socket) => {
    socket.on('error', () => socket.destroy())
    socket.write(bytes)
  })
  return listen(server, sockets)
}
