import { isIP, type Socket } from 'node:net'
import type { ProxyEndpoint } from '../options/resolved-options.js'
import type { ProxyErrorCode } from './proxy-tunnel.js'

/** Longest HTTP answer head to a CONNECT that is read: a proxy's refusal page comes after it, unread. */
const MAX_HEAD = 16 * 1024
/** RFC 1928's reply codes, as its section 6 names them. */
const SOCKS_REPLIES: Record<number, string> = {
  1: 'general SOCKS server failure',
  2: 'connection not allowed by ruleset',
  3: 'network unreachable',
  4: 'host unreachable',
  5: 'connection refused',
  6: 'TTL expired',
  7: 'command not supported',
  8: 'address type not supported',
}

/** How the proxy answered: the tunnel is open (with the broker's first bytes if they came along), or refused. */
export type ProxyAnswer = { readonly type: 'open'; readonly rest: Buffer } | { readonly type: 'refused'; readonly code: ProxyErrorCode; readonly message: string }

/**
 * Asks the proxy on `socket` (connected) for a tunnel to `host:port`: HTTP CONNECT with Basic authentication
 * when the proxy URL has credentials, or SOCKS5 (RFC 1928) with username/password authentication (RFC 1929).
 * Resolves with the answer; rejects, naming the proxy, when it closes or answers in another protocol.
 *
 * @example
 * ```ts
 * const answer = await proxyHandshake(socket, proxy, 'broker.example.com', 8883)
 * if (answer.type === 'open') tls.connect({ socket, servername: 'broker.example.com' })
 * ```
 */
export async function proxyHandshake(socket: Socket, proxy: ProxyEndpoint, host: string, port: number): Promise<ProxyAnswer> {
  const reader = new Reader(socket, proxy)
  try {
    return proxy.protocol === 'http' ? await httpConnect(socket, reader, proxy, host, port) : await socks5(socket, reader, proxy, host, port)
  } finally {
    reader.detach()
  }
}

async function httpConnect(socket: Socket, reader: Reader, proxy: ProxyEndpoint, host: string, port: number): Promise<ProxyAnswer> {
  const authority = `${isIP(host) === 6 ? `[${host}]` : host}:${port}`
  const auth = proxy.username === undefined ? '' : `Proxy-Authorization: Basic ${Buffer.from(`${proxy.username}:${proxy.password ?? ''}`).toString('base64')}\r\n`
  socket.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n${auth}\r\n`)
  const head = (await reader.until('\r\n\r\n', MAX_HEAD)).toString('latin1')
  const statusLine = head.split('\r\n')[0] ?? ''
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine)
  if (!status) throw reader.mistake(`answered the CONNECT with ${JSON.stringify(statusLine.slice(0, 64))}, not HTTP`)
  const code = Number(status[1])
  if (code >= 200 && code < 300) return { type: 'open', rest: reader.rest() }
  if (code === 407 || code === 401) {
    const given = proxy.username === undefined ? 'asked for proxy credentials, and the proxy URL has none' : 'refused the proxy credentials'
    return { type: 'refused', code: 'ERR_PROXY_AUTH', message: `the proxy ${proxy.url} ${given} (${statusLine})` }
  }
  return { type: 'refused', code: 'ERR_PROXY_REFUSED', message: `the proxy ${proxy.url} refused the tunnel to ${authority} (${statusLine})` }
}

async function socks5(socket: Socket, reader: Reader, proxy: ProxyEndpoint, host: string, port: number): Promise<ProxyAnswer> {
  const withPassword = proxy.username !== undefined
  // No authentication, and username/password when there are credentials: the proxy chooses.
  socket.write(Uint8Array.from(withPassword ? [5, 2, 0, 2] : [5, 1, 0]))
  const [version, method] = await reader.bytes(2)
  if (version !== 5) throw reader.mistake('answered in another protocol than SOCKS5')
  if (method === 0xff) {
    const given = withPassword ? 'accepts neither no authentication nor username/password' : 'requires authentication, and the proxy URL has no credentials'
    return { type: 'refused', code: 'ERR_PROXY_AUTH', message: `the SOCKS5 proxy ${proxy.url} ${given}` }
  }
  if (method === 2) {
    if (!withPassword) throw reader.mistake('chose username/password authentication, which was not offered')
    const user = Buffer.from(proxy.username ?? '')
    const password = Buffer.from(proxy.password ?? '')
    if (user.byteLength > 255 || password.byteLength > 255) throw reader.mistake('cannot take a username or password over 255 bytes (RFC 1929)')
    socket.write(Buffer.concat([Uint8Array.of(1, user.byteLength), user, Uint8Array.of(password.byteLength), password]))
    const [, status] = await reader.bytes(2)
    if (status !== 0) return { type: 'refused', code: 'ERR_PROXY_AUTH', message: `the SOCKS5 proxy ${proxy.url} refused the proxy credentials (status ${status})` }
  } else if (method !== 0) {
    throw reader.mistake(`chose authentication method ${method}, which was not offered`)
  }
  socket.write(Buffer.concat([Uint8Array.of(5, 1, 0), address(host), Uint8Array.of(port >> 8, port & 0xff)]))
  const [, reply, , type] = await reader.bytes(4)
  const length = type === 1 ? 4 : type === 4 ? 16 : type === 3 ? ((await reader.bytes(1))[0] as number) : -1
  if (length < 0) throw reader.mistake(`answered with address type ${type}`)
  await reader.bytes(length + 2)
  if (reply === 0) return { type: 'open', rest: reader.rest() }
  const authority = `${isIP(host) === 6 ? `[${host}]` : host}:${port}`
  return { type: 'refused', code: 'ERR_PROXY_REFUSED', message: `the SOCKS5 proxy ${proxy.url} refused the tunnel to ${authority} (reply ${reply}: ${SOCKS_REPLIES[reply as number] ?? 'unknown'})` }
}

/** SOCKS5's DST.ADDR: an IPv4 or IPv6 address, or a domain name for the proxy to resolve. */
function address(host: string): Uint8Array {
  const family = isIP(host)
  if (family === 4) return Uint8Array.of(1, ...host.split('.').map(Number))
  if (family === 6) {
    const [head = '', tail = ''] = host.split('::')
    const groups = (part: string): number[] => (part ? part.split(':').map((g) => parseInt(g, 16)) : [])
    const left = groups(head)
    const right = host.includes('::') ? groups(tail) : []
    const all = [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right]
    return Uint8Array.of(4, ...all.flatMap((g) => [g >> 8, g & 0xff]))
  }
  const name = Buffer.from(host)
  return Uint8Array.of(3, name.byteLength, ...name)
}

/** Reads the proxy's answer from the socket, as much as each step needs. */
class Reader {
  #buffer = Buffer.alloc(0)
  #wake: (() => void) | undefined
  #closed = false

  readonly #socket: Socket
  readonly #proxy: ProxyEndpoint
  readonly #onData = (chunk: Buffer): void => {
    this.#buffer = Buffer.concat([this.#buffer, chunk])
    this.#wake?.()
  }
  readonly #onClose = (): void => {
    this.#closed = true
    this.#wake?.()
  }

  constructor(socket: Socket, proxy: ProxyEndpoint) {
    this.#socket = socket
    this.#proxy = proxy
    socket.on('data', this.#onData)
    socket.once('close', this.#onClose)
  }

  async bytes(count: number): Promise<Buffer> {
    while (this.#buffer.byteLength < count) await this.#more()
    const taken = this.#buffer.subarray(0, count)
    this.#buffer = this.#buffer.subarray(count)
    return taken
  }

  async until(end: string, max: number): Promise<Buffer> {
    for (;;) {
      const at = this.#buffer.indexOf(end, 0, 'latin1')
      if (at >= 0) return this.bytes(at + end.length)
      if (this.#buffer.byteLength > max) throw this.mistake(`sent an answer head over ${max} bytes`)
      await this.#more()
    }
  }

  /** What came after the answer: the broker's first bytes. */
  rest(): Buffer {
    const rest = this.#buffer
    this.#buffer = Buffer.alloc(0)
    return rest
  }

  mistake(what: string): Error & { code: ProxyErrorCode } {
    return Object.assign(new Error(`the proxy ${this.#proxy.url} ${what}`), { code: 'ERR_PROXY_PROTOCOL' as const })
  }

  /** The tunnel reads the socket from now on; it stays paused until then. */
  detach(): void {
    this.#socket.pause()
    this.#socket.removeListener('data', this.#onData)
    this.#socket.removeListener('close', this.#onClose)
  }

  #more(): Promise<void> {
    if (this.#closed) return Promise.reject(this.mistake('closed the connection before the tunnel was open'))
    return new Promise((wake) => (this.#wake = () => {
      this.#wake = undefined
      wake()
    }))
  }
}
