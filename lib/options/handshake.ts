import { UnsupportedOptionError } from '../errors.js'
import type { MQTTClientOptions } from './client-options.js'
import type { Platform } from './endpoints.js'
import type { Endpoint, ProxyEndpoint } from './resolved-options.js'
import { refuse } from './validate.js'

/** A subprotocol name (RFC 6455: an HTTP token). */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/
const NO_HEADERS_IN_BROWSERS =
  'a browser cannot set WebSocket handshake headers: put the token in the URL\'s query string (the credentials provider may return a signed `url` per attempt) or in a subprotocol (`webSocket.subprotocols`)'

/** What an endpoint gets besides its URL: the proxy (Node), the handshake's headers (Node) and subprotocols. */
export type Dress = (endpoint: Endpoint, headers?: Readonly<Record<string, string>>) => Endpoint

/**
 * Checks `webSocket` and `proxy` once, for the platform, and returns what dresses each endpoint with them: its
 * proxy (the option, or the environment as read now), and for ws:// and wss:// the handshake's headers (those
 * given, then `headers`) and subprotocols. Throws {@link UnsupportedOptionError} for headers or a proxy in a
 * browser, and for anything malformed.
 *
 * @example
 * ```ts
 * const dress = handshakeDress({ webSocket: { headers: { 'x-api-key': 'k' } } }, nodePlatform)
 * dress(endpoint).headers // { 'x-api-key': 'k' } for a ws:// endpoint
 * ```
 */
export function handshakeDress(options: MQTTClientOptions, platform: Platform): Dress {
  const ws: unknown = options.webSocket
  if (ws !== undefined && (ws === null || typeof ws !== 'object' || Array.isArray(ws))) refuse('webSocket', '{ headers, subprotocols }', ws)
  const given = (ws ?? {}) as { headers?: unknown; subprotocols?: unknown }
  const unknown = Object.keys(given).find((key) => key !== 'headers' && key !== 'subprotocols')
  if (unknown !== undefined) throw new UnsupportedOptionError(`\`webSocket.${unknown}\` is not an option (headers, subprotocols)`)
  const fixed = given.headers === undefined ? undefined : checkHeaders('webSocket.headers', given.headers, platform)
  const subprotocols = given.subprotocols === undefined ? undefined : checkSubprotocols(given.subprotocols)
  const proxyOption: unknown = options.proxy
  if (proxyOption !== undefined && proxyOption !== false && typeof proxyOption !== 'string') refuse('proxy', 'a proxy URL or false', proxyOption)
  if (typeof proxyOption === 'string' && !platform.proxy) {
    throw new UnsupportedOptionError('`proxy` cannot be used in a browser: the browser reaches the broker through its own proxy settings')
  }
  const proxyFor = platform.proxy?.(proxyOption)
  return (endpoint, headers) => {
    const proxy: ProxyEndpoint | undefined = proxyFor?.(endpoint)
    const ws = endpoint.protocol === 'ws' || endpoint.protocol === 'wss'
    const all = fixed || headers ? Object.freeze({ ...fixed, ...headers }) : undefined
    if (!proxy && !(ws && (all || subprotocols))) return endpoint
    return Object.freeze({
      ...endpoint,
      ...(proxy ? { proxy } : {}),
      ...(ws && all ? { headers: all } : {}),
      ...(ws && subprotocols ? { subprotocols } : {}),
    })
  }
}

/**
 * Handshake headers as given (`webSocket.headers`, a provider's `headers`), checked by the platform (Node's
 * `nodeHeaders`). A browser cannot send them: {@link UnsupportedOptionError}, pointing to the query string or a
 * subprotocol.
 *
 * @example
 * ```ts
 * checkHeaders('webSocket.headers', { authorization: 'Bearer t' }, nodePlatform) // { authorization: 'Bearer t' }
 * ```
 */
export function checkHeaders(option: string, headers: unknown, platform: Platform): Readonly<Record<string, string>> {
  if (headers === null || typeof headers !== 'object' || Array.isArray(headers)) refuse(option, 'an object of header names and values', headers)
  if (!platform.headers) throw new UnsupportedOptionError(`\`${option}\`: ${NO_HEADERS_IN_BROWSERS}`)
  return platform.headers(option, headers)
}

function checkSubprotocols(list: unknown): readonly string[] | undefined {
  if (!Array.isArray(list)) refuse('webSocket.subprotocols', 'an array of subprotocol names', list)
  for (const name of list as unknown[]) {
    if (typeof name !== 'string' || !TOKEN.test(name)) refuse('webSocket.subprotocols', 'names that are HTTP tokens (no spaces or commas)', name)
  }
  const extra = (list as string[]).filter((name, i, all) => name !== 'mqtt' && all.indexOf(name) === i)
  return extra.length === 0 ? undefined : Object.freeze(extra)
}
