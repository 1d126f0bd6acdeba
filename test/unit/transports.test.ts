// The lean link's transports against real local servers: TCP, TLS (with the kit's certificates), `ws` in Node
// and the browser module driven by `ws` standing in for the global WebSocket. No mocks, no sleeps: every wait
// is for an event, with a timeout.
import { readFile } from 'node:fs/promises'
import { createServer as createHttpServer } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import { createServer as createTcpServer, type AddressInfo, type Server, type Socket } from 'node:net'
import { join } from 'node:path'
import { createServer as createTlsServer, type TLSSocket } from 'node:tls'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import WebSocket, { WebSocketServer, type RawData } from 'ws'
import type { LinkFailure } from '../../lib/link/link.js'
import { endpoints, nodePlatform } from '../../lib/options/endpoints.js'
import type { Endpoint } from '../../lib/options/resolved-options.js'
import { openBrowserWebSocket } from '../../lib/transport/browser-websocket.js'
import { openNodeSocket } from '../../lib/transport/node-socket.js'
import { openNodeWebSocket } from '../../lib/transport/node-websocket.js'
import { HIGH_WATER_MARK, LOW_WATER_MARK, type OpenTransport, type Transport, type TransportEvents, type TransportTls } from '../../lib/transport/transport.js'
import { TestCerts, type ClientCert } from '../support/certs.js'
import { freePort } from '../support/ports.js'
import { pathProxy, rawAnswer, type TestServer } from '../support/transport-servers.js'

const WAIT = 5_000
const endpoint = (url: string): Endpoint => endpoints({ url }, nodePlatform)[0] as Endpoint
const text = (value: string): Uint8Array => new TextEncoder().encode(value)
const decode = (bytes: Uint8Array): string => new TextDecoder().decode(bytes)
/** An MQTT 3.1.1 CONNECT, for servers that read one. */
const CONNECT = Uint8Array.of(0x10, 0x0e, 0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x04, 0x02, 0x00, 0x3c, 0x00, 0x02, 0x69, 0x64)

/** Something that changes, and promises that wait for a condition on it (checked on each change). */
class Watched {
  private readonly waiters = new Set<() => void>()

  protected changed(): void {
    for (const waiter of [...this.waiters]) waiter()
  }

  until(what: string, check: () => boolean, ms = WAIT): Promise<void> {
    if (check()) return Promise.resolve()
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(waiter)
        reject(new Error(`timed out after ${ms} ms waiting for ${what}`))
      }, ms)
      const waiter = (): void => {
        if (!check()) return
        clearTimeout(timer)
        this.waiters.delete(waiter)
        resolve()
      }
      this.waiters.add(waiter)
    })
  }
}

/** The link's side: every event a transport reports, in order. */
class Recorder extends Watched implements TransportEvents {
  readonly log: string[] = []
  readonly chunks: Uint8Array[] = []
  readonly failures: LinkFailure[] = []
  /** Set by the test: called on `open` and each chunk. */
  onOpen: () => void = () => undefined
  onData: (chunk: Uint8Array) => void = () => undefined

  open = (): void => {
    this.log.push('open')
    this.onOpen()
    this.changed()
  }
  data = (chunk: Uint8Array): void => {
    this.log.push('data')
    this.chunks.push(chunk)
    this.onData(chunk)
    this.changed()
  }
  failed = (failure: LinkFailure): void => {
    this.log.push(`failed:${failure.type}`)
    this.failures.push(failure)
    this.changed()
  }
  closed = (): void => {
    this.log.push('closed')
    this.changed()
  }
  drain = (): void => {
    this.log.push('drain')
    this.changed()
  }

  count(event: string): number {
    return this.log.filter((each) => each === event).length
  }
  get received(): string {
    return this.chunks.map(decode).join('')
  }
  get bytes(): number {
    return this.chunks.reduce((sum, chunk) => sum + chunk.byteLength, 0)
  }
  opened(): Promise<void> {
    return this.until('open', () => this.count('open') > 0)
  }
  /** Closed, then a few more turns for a second `closed` to show up. */
  async closedOnce(): Promise<void> {
    await this.until('closed', () => this.count('closed') > 0)
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve))
    expect(this.count('closed')).toBe(1)
    expect(this.log.at(-1)).toBe('closed')
  }
}

/** A server's side: what it received, in chunks or messages, and its connections. */
class Peer extends Watched {
  readonly chunks: Buffer[] = []
  sent = 0
  connections = 0
  closes = 0
  ended = false
  closeCode: number | undefined
  protocol: string | undefined
  servername: string | false | null | undefined
  peerName: string | undefined

  got(chunk: Buffer): void {
    this.chunks.push(chunk)
    this.changed()
  }
  note(update: Partial<Pick<Peer, 'sent' | 'connections' | 'closes' | 'ended' | 'closeCode' | 'protocol' | 'servername' | 'peerName'>>): void {
    Object.assign(this, update)
    this.changed()
  }
  get received(): Buffer {
    return Buffer.concat(this.chunks)
  }
  receivedAtLeast(bytes: number): Promise<void> {
    return this.until(`${bytes} bytes at the server`, () => this.received.byteLength >= bytes)
  }
}

/** What a server does with each connection: `peer` records, `socket` is the connection. */
type OnTcp = (socket: Socket, peer: Peer) => void
type OnWs = (socket: WebSocket, peer: Peer) => void

const servers: Array<{ close(): unknown }> = []
const transports: Transport[] = []
afterEach(async () => {
  for (const transport of transports.splice(0)) transport.destroy()
  await Promise.all(servers.splice(0).map((server) => server.close()))
})

function open(opener: OpenTransport, url: string, tls: TransportTls = {}, setup: (recorder: Recorder) => void = () => undefined) {
  const recorder = new Recorder()
  setup(recorder)
  const transport = opener(endpoint(url), tls, recorder)
  transports.push(transport)
  return { transport, recorder }
}

async function listening(server: Server, host = '127.0.0.1'): Promise<number> {
  const sockets = new Set<Socket>()
  server.on('connection', (socket: Socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, host, () => resolve())
  })
  servers.push({
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve())
      }),
  })
  return (server.address() as AddressInfo).port
}

/** Wires a server's connection to a peer: what it receives, its end and close. */
function recordTcp(socket: Socket, peer: Peer): void {
  peer.note({ connections: peer.connections + 1 })
  socket.on('data', (chunk: Buffer) => peer.got(chunk))
  socket.on('end', () => peer.note({ ended: true }))
  socket.on('close', () => peer.note({ closes: peer.closes + 1 }))
  socket.on('error', () => undefined)
}

async function tcpServer(onSocket: OnTcp = () => undefined, host = '127.0.0.1'): Promise<{ port: number; peer: Peer }> {
  const peer = new Peer()
  const server = createTcpServer((socket) => {
    recordTcp(socket, peer)
    onSocket(socket, peer)
  })
  return { port: await listening(server, host), peer }
}

let certs: TestCerts
let alice: ClientCert
let foreignCa: string

async function tlsServer(onSocket: OnTcp = () => undefined, options: { requestCert?: boolean } = {}): Promise<{ port: number; peer: Peer }> {
  const peer = new Peer()
  const server = createTlsServer(
    {
      cert: certs.serverCert,
      key: certs.serverKey,
      // Only to check clients: given a CA, a server also sends it along with its certificate.
      ...(options.requestCert ? { ca: certs.ca, requestCert: true, rejectUnauthorized: true } : {}),
    },
    (socket: TLSSocket) => {
      const subject = socket.getPeerCertificate().subject as { CN?: string } | undefined
      peer.note({ servername: socket.servername, peerName: subject?.CN })
      recordTcp(socket, peer)
      onSocket(socket, peer)
    },
  )
  server.on('tlsClientError', () => undefined)
  return { port: await listening(server), peer }
}

/** A websockets listener that picks `mqtt` (as brokers do), or no subprotocol at all. */
async function wsServer(onSocket: OnWs = () => undefined, options: { secure?: boolean; host?: string; protocol?: boolean } = {}) {
  const peer = new Peer()
  const http = options.secure ? createHttpsServer({ cert: certs.serverCert, key: certs.serverKey }) : createHttpServer()
  const wss = new WebSocketServer({
    server: http,
    handleProtocols: (protocols) => (options.protocol !== false && protocols.has('mqtt') ? 'mqtt' : false),
  })
  wss.on('connection', (socket) => {
    peer.note({ connections: peer.connections + 1, protocol: socket.protocol })
    socket.on('message', (data: RawData) => peer.got(data as Buffer))
    socket.on('close', (code) => peer.note({ closes: peer.closes + 1, closeCode: code }))
    socket.on('error', () => undefined)
    onSocket(socket, peer)
  })
  const port = await listening(http, options.host)
  servers.push({ close: () => new Promise((resolve) => wss.close(resolve)) })
  return { port, peer }
}

/** A TestServer from test/support, closed after the test. */
function kept<T extends TestServer>(server: T): T {
  servers.push(server)
  return server
}

/** 10,000 writes of 4 bytes, each its number: whether they arrived complete and in order. */
function burst(transport: Transport): void {
  for (let i = 0; i < 10_000; i++) {
    const bytes = new Uint8Array(4)
    new DataView(bytes.buffer).setUint32(0, i)
    transport.write(bytes)
  }
}
function inOrder(bytes: Uint8Array): boolean {
  if (bytes.byteLength !== 40_000) return false
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  for (let i = 0; i < 10_000; i++) if (view.getUint32(i * 4) !== i) return false
  return true
}

beforeAll(async () => {
  certs = await TestCerts.make({ clients: ['alice'] })
  alice = await certs.client('alice')
  await certs.foreignClient('mallory') // makes the other CA, whose certificate is a CA the server is not from
  foreignCa = await readFile(join(certs.dir, 'foreign', 'ca.crt'), 'utf8')
})
afterAll(async () => {
  await certs?.dispose()
})

describe('mqtt:// over TCP', () => {
  it('carries bytes both ways, each read as a plain Uint8Array', async () => {
    const { port, peer } = await tcpServer((socket) => socket.write('hello from the broker'))
    const { transport, recorder } = open(openNodeSocket, `mqtt://127.0.0.1:${port}`)
    recorder.onOpen = () => transport.write(text('hello from the link'))
    await peer.receivedAtLeast(19)
    await recorder.until('the greeting', () => recorder.received === 'hello from the broker')
    expect(peer.received.toString()).toBe('hello from the link')
    expect(Object.getPrototypeOf(recorder.chunks[0])).toBe(Uint8Array.prototype)
    expect(recorder.log[0]).toBe('open')
    expect(recorder.failures).toEqual([])
  })

  it('a burst of 10,000 writes in one turn arrives complete, in order, in few reads', async () => {
    const { port, peer } = await tcpServer()
    const { transport, recorder } = open(openNodeSocket, `mqtt://127.0.0.1:${port}`)
    recorder.onOpen = () => burst(transport)
    await peer.receivedAtLeast(40_000)
    expect(inOrder(peer.received)).toBe(true)
    expect(peer.chunks.length).toBeLessThanOrEqual(3) // one write: one read, two at most on loopback
  })

  it('end(): what was written in the turn leaves first, then closed once', async () => {
    const { port, peer } = await tcpServer()
    const { transport, recorder } = open(openNodeSocket, `mqtt://127.0.0.1:${port}`)
    recorder.onOpen = () => {
      transport.write(text('last words'))
      transport.end()
      transport.write(text(' (dropped)'))
    }
    await recorder.closedOnce()
    await peer.until('the FIN', () => peer.ended)
    expect(peer.received.toString()).toBe('last words')
    expect(recorder.failures).toEqual([])
  })

  it('destroy(): closed once, before or after open', async () => {
    const { port, peer } = await tcpServer()
    const early = open(openNodeSocket, `mqtt://127.0.0.1:${port}`)
    early.transport.destroy()
    await early.recorder.closedOnce()
    expect(early.recorder.log).toEqual(['closed'])

    const { transport, recorder } = open(openNodeSocket, `mqtt://127.0.0.1:${port}`)
    await recorder.opened()
    transport.write(text('never sent'))
    transport.destroy()
    transport.destroy()
    await recorder.closedOnce()
    await peer.until('the server to see the close', () => peer.closes >= 1 && peer.connections >= 1)
    expect(peer.received.toString()).not.toContain('never sent')
    expect(recorder.failures).toEqual([])
  })

  it("the peer's close: closed once, no failure", async () => {
    const { port } = await tcpServer((socket) => socket.end('bye'))
    const { recorder } = open(openNodeSocket, `mqtt://127.0.0.1:${port}`)
    await recorder.closedOnce()
    expect(recorder.log).toEqual(['open', 'data', 'closed'])
    expect(recorder.received).toBe('bye')
  })

  it('a refused port: a socket failure with ECONNREFUSED, closed once, never open', async () => {
    const port = await freePort()
    const { recorder } = open(openNodeSocket, `mqtt://127.0.0.1:${port}`)
    await recorder.closedOnce()
    expect(recorder.log).toEqual(['failed:socket', 'closed'])
    expect(recorder.failures[0]).toMatchObject({ type: 'socket', code: 'ECONNREFUSED' })
  })

  it('IPv6: a hostname without brackets connects', async () => {
    const { port, peer } = await tcpServer((socket) => socket.write('v6'), '::1')
    const { transport, recorder } = open(openNodeSocket, `mqtt://[::1]:${port}`)
    recorder.onOpen = () => transport.write(text('over v6'))
    await peer.receivedAtLeast(7)
    await recorder.until('the answer', () => recorder.received === 'v6')
  })

  it("an HTTP answer (a websockets listener's 400 to the CONNECT): wrong-transport with the status line, nothing read as packets", async () => {
    const { port } = await wsServer()
    const url = `mqtt://127.0.0.1:${port}`
    const { transport, recorder } = open(openNodeSocket, url)
    recorder.onOpen = () => transport.write(CONNECT)
    await recorder.closedOnce()
    expect(recorder.failures).toEqual([{ type: 'wrong-transport', url, heard: 'http', detail: 'HTTP/1.1 400 Bad Request', suggested: `ws://127.0.0.1:${port}/` }])
    expect(recorder.log).toEqual(['open', 'failed:wrong-transport', 'closed'])
  })

  it('an HTTP answer in pieces is still heard; a first byte `H` that is not HTTP is handed on whole', async () => {
    const split = await tcpServer((socket) => {
      socket.setNoDelay(true)
      socket.write('HT', () => setImmediate(() => socket.write('TP/1.0 502 Bad Gateway\r\n\r\n')))
    })
    const http = open(openNodeSocket, `mqtt://127.0.0.1:${split.port}`)
    await http.recorder.closedOnce()
    expect(http.recorder.failures).toMatchObject([{ type: 'wrong-transport', heard: 'http', detail: 'HTTP/1.0 502 Bad Gateway' }])
    expect(http.recorder.chunks).toEqual([])

    const other = await tcpServer((socket) => {
      socket.setNoDelay(true)
      socket.write('H', () => setImmediate(() => socket.write('ello, not HTTP')))
    })
    const { recorder } = open(openNodeSocket, `mqtt://127.0.0.1:${other.port}`)
    await recorder.until('the answer', () => recorder.received === 'Hello, not HTTP')
    expect(recorder.failures).toEqual([])
  })

  it('pause() stops data until resume(), while the server keeps writing', async () => {
    const { port, peer } = await tcpServer((socket, peer) => {
      const timer = setInterval(() => socket.write(Buffer.alloc(1_000, 7), () => peer.note({ sent: peer.sent + 1 })), 1)
      socket.on('close', () => clearInterval(timer))
    })
    const { transport, recorder } = open(openNodeSocket, `mqtt://127.0.0.1:${port}`)
    let seen = 0
    recorder.onData = () => {
      if (recorder.chunks.length === 1) transport.pause()
    }
    await recorder.until('the first chunk', () => recorder.chunks.length > 0)
    seen = recorder.chunks.length
    const sent = peer.sent
    await peer.until('20 more writes from the server', () => peer.sent >= sent + 20)
    expect(recorder.chunks.length).toBe(seen)
    transport.resume()
    await recorder.until('data after resume()', () => recorder.chunks.length > seen)
  })

  it('refuses ws:// with a protocol failure, asynchronously', async () => {
    const { recorder } = open(openNodeSocket, 'ws://127.0.0.1:1')
    expect(recorder.log).toEqual([])
    await recorder.closedOnce()
    expect(recorder.log).toEqual(['failed:protocol', 'closed'])
  })
})

describe('mqtts:// over TLS', () => {
  it('carries bytes both ways; the server name is the hostname, and none for an IP address', async () => {
    const { port, peer } = await tlsServer((socket) => socket.write('secret hello'))
    const { transport, recorder } = open(openNodeSocket, `mqtts://localhost:${port}`, { ca: certs.ca })
    recorder.onOpen = () => transport.write(text('hello over TLS'))
    await peer.receivedAtLeast(14)
    await recorder.until('the greeting', () => recorder.received === 'secret hello')
    expect(peer.servername).toBe('localhost')

    const byIp = open(openNodeSocket, `mqtts://127.0.0.1:${port}`, { ca: certs.ca })
    await byIp.recorder.until('the greeting', () => byIp.recorder.received === 'secret hello')
    expect(peer.servername).toBe(false) // no SNI for an IP address (RFC 6066), and the certificate's IP SAN checked
  })

  it('a burst of 10,000 writes in one turn arrives complete and in order', async () => {
    const { port, peer } = await tlsServer()
    const { transport, recorder } = open(openNodeSocket, `mqtts://127.0.0.1:${port}`, { ca: certs.ca })
    recorder.onOpen = () => burst(transport)
    await peer.receivedAtLeast(40_000)
    expect(inOrder(peer.received)).toBe(true)
    expect(peer.chunks.length).toBeLessThanOrEqual(6) // TLS records hold 16 KiB: three of them
  })

  it('a server certificate from another CA: a socket failure with the verification code, closed once', async () => {
    const { port } = await tlsServer()
    const { recorder } = open(openNodeSocket, `mqtts://localhost:${port}`, { ca: foreignCa })
    await recorder.closedOnce()
    // `open` comes with the TCP connection (the CONNECT then waits in the TLS socket: see node-socket.ts).
    expect(recorder.log).toEqual(['open', 'failed:socket', 'closed'])
    expect(recorder.failures[0]).toMatchObject({ type: 'socket', code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' })
  })

  it('presents the client certificate to a server that requests one', async () => {
    const { port, peer } = await tlsServer((socket) => socket.write('welcome alice'), { requestCert: true })
    const { recorder } = open(openNodeSocket, `mqtts://localhost:${port}`, { ca: certs.ca, ...alice })
    await recorder.until('the welcome', () => recorder.received === 'welcome alice')
    expect(peer.peerName).toBe('alice')
  })

  it('a key that does not parse: a socket failure (not a throw), then closed', async () => {
    const { port } = await tlsServer()
    const { recorder } = open(openNodeSocket, `mqtts://localhost:${port}`, { ca: certs.ca, cert: alice.cert, key: 'not a key' })
    expect(recorder.log).toEqual([])
    await recorder.closedOnce()
    expect(recorder.log).toEqual(['failed:socket', 'closed'])
    expect(recorder.failures[0]).toMatchObject({ type: 'socket', code: expect.stringMatching(/^ERR_OSSL_/) })
  })

  it("an HTTPS answer (a wss:// listener's 400): wrong-transport suggesting wss://", async () => {
    const { port } = await wsServer(undefined, { secure: true })
    const url = `mqtts://localhost:${port}`
    const { transport, recorder } = open(openNodeSocket, url, { ca: certs.ca })
    recorder.onOpen = () => transport.write(CONNECT)
    await recorder.closedOnce()
    expect(recorder.failures).toEqual([{ type: 'wrong-transport', url, heard: 'http', detail: 'HTTP/1.1 400 Bad Request', suggested: `wss://localhost:${port}/` }])
  })
})

describe('ws:// and wss:// with the ws package', () => {
  it('carries bytes both ways in binary frames, with the mqtt subprotocol', async () => {
    const { port, peer } = await wsServer((socket) => socket.send(Buffer.from('hello from the broker')))
    const { transport, recorder } = open(openNodeWebSocket, `ws://127.0.0.1:${port}/mqtt`)
    recorder.onOpen = () => transport.write(text('hello from the link'))
    await peer.receivedAtLeast(19)
    await recorder.until('the greeting', () => recorder.received === 'hello from the broker')
    expect(peer.received.toString()).toBe('hello from the link')
    expect(peer.protocol).toBe('mqtt')
    expect(Object.getPrototypeOf(recorder.chunks[0])).toBe(Uint8Array.prototype)
  })

  it('a burst of 10,000 writes in one turn leaves as one frame', async () => {
    const { port, peer } = await wsServer()
    const { transport, recorder } = open(openNodeWebSocket, `ws://127.0.0.1:${port}/`)
    recorder.onOpen = () => burst(transport)
    await peer.receivedAtLeast(40_000)
    expect(inOrder(peer.received)).toBe(true)
    expect(peer.chunks.length).toBe(1)
  })

  it('end(): the turn\'s writes, then a close with 1000, then closed once', async () => {
    const { port, peer } = await wsServer()
    const { transport, recorder } = open(openNodeWebSocket, `ws://127.0.0.1:${port}/`)
    recorder.onOpen = () => {
      transport.write(text('last words'))
      transport.end()
      transport.write(text(' (dropped)'))
    }
    await recorder.closedOnce()
    await peer.until('the close', () => peer.closes === 1)
    expect(peer.closeCode).toBe(1000)
    expect(peer.received.toString()).toBe('last words')
    expect(recorder.failures).toEqual([])
  })

  it('destroy(): closed once, before or after open, and no failure', async () => {
    const { port, peer } = await wsServer()
    const early = open(openNodeWebSocket, `ws://127.0.0.1:${port}/`)
    early.transport.destroy()
    await early.recorder.closedOnce()
    expect(early.recorder.log).toEqual(['closed'])

    const { transport, recorder } = open(openNodeWebSocket, `ws://127.0.0.1:${port}/`)
    await recorder.opened()
    transport.write(text('never sent'))
    transport.destroy()
    await recorder.closedOnce()
    await peer.until('the server to see the close', () => peer.closes === 1)
    expect(peer.closeCode).toBe(1006) // terminated: no closing handshake
    expect(peer.chunks).toEqual([])
    expect(recorder.log).toEqual(['open', 'closed'])
  })

  it("the peer's close: closed once, no failure", async () => {
    const { port } = await wsServer((socket) => {
      socket.send(Buffer.from('bye'))
      socket.close(1000)
    })
    const { recorder } = open(openNodeWebSocket, `ws://127.0.0.1:${port}/`)
    await recorder.closedOnce()
    expect(recorder.log).toEqual(['open', 'data', 'closed'])
  })

  it('a refused port: a socket failure with ECONNREFUSED', async () => {
    const port = await freePort()
    const { recorder } = open(openNodeWebSocket, `ws://127.0.0.1:${port}/`)
    await recorder.closedOnce()
    expect(recorder.log).toEqual(['failed:socket', 'closed'])
    expect(recorder.failures[0]).toMatchObject({ type: 'socket', code: 'ECONNREFUSED' })
  })

  it('an HTTP 404 (a proxy with another path): websocket-handshake with the status', async () => {
    const broker = await wsServer()
    const proxy = kept(await pathProxy('/mqtt', broker.port))
    const url = `ws://127.0.0.1:${proxy.port}/wrong`
    const { recorder } = open(openNodeWebSocket, url)
    await recorder.closedOnce()
    expect(recorder.failures).toEqual([{ type: 'websocket-handshake', url, status: 404, closeCode: undefined, detail: 'Unexpected server response: 404' }])

    const right = open(openNodeWebSocket, `ws://127.0.0.1:${proxy.port}/mqtt`)
    await right.recorder.opened()
  })

  it('a raw TCP listener that resets the handshake: wrong-transport reset, suggesting mqtt://', async () => {
    const { port } = await tcpServer((socket) => socket.once('data', () => socket.resetAndDestroy()))
    const url = `ws://127.0.0.1:${port}/`
    const { recorder } = open(openNodeWebSocket, url)
    await recorder.closedOnce()
    expect(recorder.failures).toMatchObject([{ type: 'wrong-transport', url, heard: 'reset', suggested: `mqtt://127.0.0.1:${port}` }])
    expect(recorder.log).toEqual(['failed:wrong-transport', 'closed'])
  })

  it('an answer that is not HTTP (an MQTT listener that speaks first): wrong-transport not-http', async () => {
    const server = kept(await rawAnswer(Uint8Array.of(0x20, 0x02, 0x00, 0x00)))
    const url = `ws://127.0.0.1:${server.port}/`
    const { recorder } = open(openNodeWebSocket, url)
    await recorder.closedOnce()
    expect(recorder.failures).toMatchObject([{ type: 'wrong-transport', url, heard: 'not-http', suggested: `mqtt://127.0.0.1:${server.port}` }])
  })

  it('a server that picks no subprotocol: websocket-handshake without a status', async () => {
    const { port } = await wsServer(undefined, { protocol: false })
    const url = `ws://127.0.0.1:${port}/`
    const { recorder } = open(openNodeWebSocket, url)
    await recorder.closedOnce()
    expect(recorder.failures).toEqual([{ type: 'websocket-handshake', url, status: undefined, closeCode: undefined, detail: 'Server sent no subprotocol' }])
  })

  it('pause() stops data until resume(), while the server keeps sending', async () => {
    const { port, peer } = await wsServer((socket, peer) => {
      const timer = setInterval(() => socket.send(Buffer.alloc(1_000, 7), () => peer.note({ sent: peer.sent + 1 })), 1)
      socket.on('close', () => clearInterval(timer))
    })
    const { transport, recorder } = open(openNodeWebSocket, `ws://127.0.0.1:${port}/`)
    recorder.onData = () => {
      if (recorder.chunks.length === 1) transport.pause()
    }
    await recorder.until('the first message', () => recorder.chunks.length > 0)
    const seen = recorder.chunks.length
    const sent = peer.sent
    await peer.until('20 more messages from the server', () => peer.sent >= sent + 20)
    expect(recorder.chunks.length).toBe(seen)
    transport.resume()
    await recorder.until('messages after resume()', () => recorder.chunks.length > seen + 5)
    expect(recorder.bytes).toBe(recorder.chunks.length * 1_000)
  })

  it('pause() before open holds from the start', async () => {
    const { port, peer } = await wsServer((socket, peer) => {
      for (let i = 0; i < 50; i++) socket.send(Buffer.of(i), () => peer.note({ sent: peer.sent + 1 }))
    })
    const { transport, recorder } = open(openNodeWebSocket, `ws://127.0.0.1:${port}/`)
    transport.pause()
    await recorder.opened()
    await peer.until('50 messages sent', () => peer.sent === 50)
    expect(recorder.chunks).toEqual([])
    transport.resume()
    await recorder.until('the 50 messages', () => recorder.chunks.length === 50)
    expect(recorder.chunks.map((chunk) => chunk[0])).toEqual([...Array(50).keys()])
  })

  it('a text frame: a protocol failure, and the connection closed', async () => {
    const { port } = await wsServer((socket) => socket.send('text'))
    const { recorder } = open(openNodeWebSocket, `ws://127.0.0.1:${port}/`)
    await recorder.closedOnce()
    expect(recorder.log).toEqual(['open', 'failed:protocol', 'closed'])
  })

  it('a URL the constructor refuses: a protocol failure and closed, asynchronously', async () => {
    const recorder = new Recorder()
    openNodeWebSocket({ url: 'ws://bad host/', protocol: 'ws', hostname: 'bad host', port: 80, path: '/' }, {}, recorder)
    expect(recorder.log).toEqual([])
    await recorder.closedOnce()
    expect(recorder.log).toEqual(['failed:protocol', 'closed'])
    expect(recorder.failures[0]).toMatchObject({ message: expect.stringContaining('Invalid URL') })
  })

  it('IPv6: the URL has brackets', async () => {
    const { port, peer } = await wsServer((socket) => socket.send(Buffer.from('v6')), { host: '::1' })
    const { transport, recorder } = open(openNodeWebSocket, `ws://[::1]:${port}/`)
    recorder.onOpen = () => transport.write(text('over v6'))
    await peer.receivedAtLeast(7)
    await recorder.until('the answer', () => recorder.received === 'v6')
  })

  it('wss://: the TLS settings apply (the CA, and a wrong one as a socket failure)', async () => {
    const { port, peer } = await wsServer((socket) => socket.send(Buffer.from('secure')), { secure: true })
    const { transport, recorder } = open(openNodeWebSocket, `wss://localhost:${port}/`, { ca: certs.ca })
    recorder.onOpen = () => transport.write(text('over wss'))
    await peer.receivedAtLeast(8)
    await recorder.until('the answer', () => recorder.received === 'secure')

    const wrong = open(openNodeWebSocket, `wss://localhost:${port}/`, { ca: foreignCa })
    await wrong.recorder.closedOnce()
    expect(wrong.recorder.log).toEqual(['failed:socket', 'closed'])
    expect(wrong.recorder.failures[0]).toMatchObject({ type: 'socket', code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' })
  })
})

/** `ws` as a browser's WebSocket, which cannot stop reading (`ws` itself never calls these). */
class BrowserLikeWebSocket extends WebSocket {
  override pause(): void {}
  override resume(): void {}
}

// Node 20 has no global WebSocket: `ws`, which implements the same API, stands in for the browser's, to run
// the browser module's own logic (what it makes of a close before open, its microtask batching, pausing).
describe('the browser WebSocket module, with ws as the global WebSocket', () => {
  const global = globalThis as { WebSocket?: unknown }
  const before = global.WebSocket
  beforeAll(() => {
    global.WebSocket = BrowserLikeWebSocket
  })
  afterAll(() => {
    global.WebSocket = before
  })

  it('carries bytes both ways; a turn\'s writes leave as one frame', async () => {
    const { port, peer } = await wsServer((socket) => socket.send(Buffer.from('hello browser')))
    const { transport, recorder } = open(openBrowserWebSocket, `ws://127.0.0.1:${port}/`)
    recorder.onOpen = () => burst(transport)
    await peer.receivedAtLeast(40_000)
    expect(inOrder(peer.received)).toBe(true)
    expect(peer.chunks.length).toBe(1)
    await recorder.until('the greeting', () => recorder.received === 'hello browser')
    transport.end()
    await recorder.closedOnce()
    expect(recorder.failures).toEqual([])
  })

  it('a failed handshake shows as a close before open: websocket-handshake with its close code', async () => {
    const broker = await wsServer()
    const proxy = kept(await pathProxy('/mqtt', broker.port))
    const url = `ws://127.0.0.1:${proxy.port}/wrong`
    const { recorder } = open(openBrowserWebSocket, url)
    await recorder.closedOnce()
    expect(recorder.failures).toEqual([{ type: 'websocket-handshake', url, status: undefined, closeCode: 1006, detail: '' }])
  })

  it('a URL the constructor refuses: a protocol failure, then closed, never a throw', async () => {
    const recorder = new Recorder()
    openBrowserWebSocket({ url: 'ws://bad host/', protocol: 'ws', hostname: 'bad host', port: 80, path: '/' }, {}, recorder)
    expect(recorder.log).toEqual([])
    await recorder.closedOnce()
    expect(recorder.log).toEqual(['failed:protocol', 'closed'])
  })

  it('destroy() before open: closed once, no failure', async () => {
    const { port } = await wsServer()
    const { transport, recorder } = open(openBrowserWebSocket, `ws://127.0.0.1:${port}/`)
    transport.destroy()
    await recorder.closedOnce()
    expect(recorder.log).toEqual(['closed'])
  })

  it('pause() holds the messages a browser goes on reading, and a close waits for them: they come first on resume()', async () => {
    const { port, peer } = await wsServer((socket, peer) => {
      for (let i = 0; i < 3; i++) socket.send(Buffer.of(i))
      socket.close(1000)
      socket.on('close', () => peer.note({ sent: 3 }))
    })
    const { transport, recorder } = open(openBrowserWebSocket, `ws://127.0.0.1:${port}/`)
    recorder.onOpen = () => transport.pause()
    await peer.until('the server to close', () => peer.sent === 3)
    expect(recorder.log).toEqual(['open'])
    transport.resume()
    await recorder.closedOnce()
    expect(recorder.log).toEqual(['open', 'data', 'data', 'data', 'closed'])
  })
})

describe('backpressure: a peer that stops reading', () => {
  /** Writes 256 KiB a turn until the transport holds the high-water mark (the operating system takes megabytes first). */
  async function fill(transport: Transport, recorder: Recorder): Promise<number> {
    const chunk = new Uint8Array(256 * 1024)
    let written = 0
    while (transport.buffered < HIGH_WATER_MARK) {
      if (written > 256 * 1024 * 1024) throw new Error('the peer read what it should not have')
      transport.write(chunk)
      written += chunk.byteLength
      await new Promise((resolve) => setImmediate(resolve))
    }
    expect(recorder.count('drain')).toBe(0)
    return written
  }

  it('TCP: `buffered` counts what the socket holds; `drain` comes once, at or under the low-water mark, after the peer reads again', async () => {
    let server: Socket | undefined
    const { port, peer } = await tcpServer((socket) => {
      server = socket
      socket.pause()
    })
    const { transport, recorder } = open(openNodeSocket, `mqtt://127.0.0.1:${port}`)
    await recorder.opened()
    const written = await fill(transport, recorder)
    server?.resume()
    await recorder.until('drain', () => recorder.count('drain') > 0, 20_000)
    expect(transport.buffered).toBeLessThanOrEqual(LOW_WATER_MARK)
    await peer.receivedAtLeast(written)
    expect(recorder.count('drain')).toBe(1)
  })

  it('ws://: `buffered` is the WebSocket\'s bufferedAmount, watched while high; `drain` once after the peer reads again', async () => {
    let server: WebSocket | undefined
    const { port, peer } = await wsServer((socket) => {
      server = socket
      socket.pause()
    })
    const { transport, recorder } = open(openNodeWebSocket, `ws://127.0.0.1:${port}/`)
    await recorder.opened()
    const written = await fill(transport, recorder)
    server?.resume()
    await recorder.until('drain', () => recorder.count('drain') > 0, 20_000)
    expect(transport.buffered).toBeLessThanOrEqual(LOW_WATER_MARK)
    await peer.until('every byte at the server', () => peer.chunks.reduce((n, c) => n + c.byteLength, 0) >= written, 20_000)
    expect(recorder.count('drain')).toBe(1)
  })

  it('the browser module (ws standing in for WebSocket): no drain event to rely on, bufferedAmount watched; `drain` once after the peer reads again', async () => {
    const global = globalThis as { WebSocket?: unknown }
    const before = global.WebSocket
    global.WebSocket = BrowserLikeWebSocket
    try {
      let server: WebSocket | undefined
      const { port } = await wsServer((socket) => {
        server = socket
        socket.pause()
      })
      const { transport, recorder } = open(openBrowserWebSocket, `ws://127.0.0.1:${port}/`)
      await recorder.opened()
      await fill(transport, recorder)
      server?.resume()
      await recorder.until('drain', () => recorder.count('drain') > 0, 20_000)
      expect(transport.buffered).toBeLessThanOrEqual(LOW_WATER_MARK)
      expect(recorder.count('drain')).toBe(1)
    } finally {
      global.WebSocket = before
    }
  })

  it('ws://: the watch runs on the timers given (the link\'s) and stops when the transport is destroyed while high', async () => {
    const { port } = await wsServer((socket) => socket.pause())
    const live = new Set<unknown>()
    let made = 0
    const timers = {
      set: (callback: () => void, ms: number): unknown => {
        made += 1
        const id = setInterval(callback, ms)
        live.add(id)
        return id
      },
      clear: (id: unknown): void => {
        live.delete(id)
        clearInterval(id as ReturnType<typeof setInterval>)
      },
    }
    const recorder = new Recorder()
    const transport = openNodeWebSocket(endpoint(`ws://127.0.0.1:${port}/`), {}, recorder, timers)
    transports.push(transport)
    await recorder.opened()
    await fill(transport, recorder)
    expect([made, live.size]).toEqual([1, 1])
    transport.destroy()
    await recorder.closedOnce()
    expect(live.size).toBe(0)
    expect(recorder.count('drain')).toBe(0)
  })
})
