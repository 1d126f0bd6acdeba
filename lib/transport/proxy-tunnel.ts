import { lookup } from 'node:dns'
import { connect as connectTcp, isIP, type Socket } from 'node:net'
import { Duplex } from 'node:stream'
import { connect as connectTls } from 'node:tls'
import { isCertificateFailure } from '../connection/refusal.js'
import type { ProxyEndpoint } from '../options/resolved-options.js'
import { proxyHandshake, type ProxyAnswer } from './proxy-handshake.js'

/**
 * The codes of a tunnel's errors, which the Node entry reads (lib/connection/close-diagnosis.ts):
 * `ERR_PROXY_AUTH` the proxy refused its credentials (HTTP 401/407, SOCKS5 authentication), `ERR_PROXY_REFUSED`
 * it would not connect to the broker (HTTP 403, 502, ...; a SOCKS5 reply other than success),
 * `ERR_PROXY_UNREACHABLE` no connection to the proxy itself, `ERR_PROXY_TLS` an https:// proxy's certificate
 * did not verify, `ERR_PROXY_PROTOCOL` it answered something else.
 */
export type ProxyErrorCode = 'ERR_PROXY_AUTH' | 'ERR_PROXY_REFUSED' | 'ERR_PROXY_UNREACHABLE' | 'ERR_PROXY_TLS' | 'ERR_PROXY_PROTOCOL'

/**
 * A stream to `host:port` through an HTTP CONNECT or SOCKS5 proxy, usable at once: what is written before the
 * tunnel is open waits for it (the CONNECT, a TLS ClientHello), and `connect` is emitted when it opens, as a
 * TCP socket does. A failure is an `error` whose `code` is a {@link ProxyErrorCode} and whose message names
 * the proxy (never its password). Both links take it where they would take a socket: the lean link's
 * transports, and MQTT.js's streams and `ws`'s `createConnection`. An https:// proxy is reached over TLS first,
 * its certificate verified against Node's CAs (with `NODE_EXTRA_CA_CERTS`, as for any Node program); a TLS
 * broker's own TLS then runs inside that, end to end.
 *
 * @example
 * ```ts
 * const tunnel = new ProxyTunnel({ url: 'http://proxy:3128', protocol: 'http', hostname: 'proxy', port: 3128 }, 'broker', 1883)
 * tunnel.once('connect', () => console.log('through'))
 * ```
 */
export class ProxyTunnel extends Duplex {
  /** The connection to the proxy, once the tunnel is open. */
  #open: Socket | undefined
  /** Writes made before the tunnel opened. */
  #waiting: Array<{ chunk: Buffer; done: (error?: Error | null) => void }> = []
  #noDelay = true

  readonly #socket: Socket
  readonly #proxy: ProxyEndpoint

  constructor(proxy: ProxyEndpoint, host: string, port: number) {
    super({ allowHalfOpen: false })
    this.#proxy = proxy
    const secure = proxy.url.startsWith('https:')
    const socket = secure
      ? connectTls({ host: proxy.hostname, port: proxy.port, ...(isIP(proxy.hostname) === 0 ? { servername: proxy.hostname } : {}), ALPNProtocols: ['http/1.1'] })
      : connectTcp({ host: proxy.hostname, port: proxy.port })
    this.#socket = socket
    socket.setNoDelay(true)
    const unreachable = (error: Error & { code?: string }): void => {
      this.destroy(
        isCertificateFailure(error.code)
          ? proxyError('ERR_PROXY_TLS', `the proxy ${proxy.url} did not pass TLS verification (${error.code}: ${error.message}); a proxy with a private CA needs it in NODE_EXTRA_CA_CERTS`)
          : proxyError('ERR_PROXY_UNREACHABLE', `the proxy ${proxy.url} could not be reached (${error.code ?? error.message})`),
      )
    }
    socket.once('error', unreachable)
    socket.once(secure ? 'secureConnect' : 'connect', () => {
      socket.removeListener('error', unreachable)
      socket.on('error', (error) => this.destroy(error))
      void this.#handshake(host, port)
    })
  }

  setNoDelay(noDelay = true): this {
    this.#noDelay = noDelay
    this.#open?.setNoDelay(noDelay)
    return this
  }

  setKeepAlive(enable?: boolean, delay?: number): this {
    this.#socket.setKeepAlive(enable, delay)
    return this
  }

  /** No idle timeout of its own: the link's keepalive watches the connection. */
  setTimeout(_ms: number, callback?: () => void): this {
    if (callback) this.once('timeout', callback)
    return this
  }

  ref(): this {
    this.#socket.ref()
    return this
  }

  unref(): this {
    this.#socket.unref()
    return this
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    if (this.#open) this.#open.write(chunk, done)
    else this.#waiting.push({ chunk, done })
  }

  override _read(): void {
    this.#open?.resume()
  }

  override _final(done: (error?: Error | null) => void): void {
    this.#socket.end()
    done()
  }

  override _destroy(error: Error | null, done: (error?: Error | null) => void): void {
    this.#socket.destroy()
    for (const write of this.#waiting.splice(0)) write.done(error ?? new Error('the tunnel closed'))
    done(error)
  }

  async #handshake(host: string, port: number): Promise<void> {
    const socket = this.#socket
    const proxy = this.#proxy
    let answer: ProxyAnswer
    try {
      // socks5:// resolves the broker's name here, as curl does; socks5h:// and HTTP leave it to the proxy.
      const target = proxy.protocol === 'socks5' && isIP(host) === 0 ? await resolve(host) : host
      answer = await proxyHandshake(socket, proxy, target, port)
    } catch (error) {
      this.destroy(error instanceof Error ? error : new Error(String(error)))
      return
    }
    if (this.destroyed) return
    if (answer.type !== 'open') {
      this.destroy(proxyError(answer.code, answer.message))
      return
    }
    this.#open = socket
    socket.setNoDelay(this.#noDelay)
    socket.on('data', (chunk: Buffer) => {
      if (!this.push(chunk)) socket.pause()
    })
    socket.on('end', () => this.push(null))
    socket.on('close', () => this.destroy())
    if (answer.rest.byteLength > 0) this.push(answer.rest)
    socket.resume()
    this.emit('connect')
    for (const write of this.#waiting.splice(0)) socket.write(write.chunk, write.done)
  }
}

/**
 * An error of a tunnel, with its {@link ProxyErrorCode}.
 *
 * @example
 * ```ts
 * proxyError('ERR_PROXY_AUTH', 'the proxy http://proxy:3128 refused the proxy credentials (HTTP 407)')
 * ```
 */
export function proxyError(code: ProxyErrorCode, message: string): Error & { code: ProxyErrorCode } {
  return Object.assign(new Error(message), { code })
}

function resolve(host: string): Promise<string> {
  return new Promise((done, fail) => lookup(host, (error, address) => (error ? fail(error) : done(address))))
}
