import { UnsupportedOptionError } from '../errors.js'
import type { MQTTClientOptions } from './client-options.js'
import type { Endpoint, TlsOptions } from './resolved-options.js'
import { resolveTls } from './resolve-tls.js'
import { chooseProxy, type ProxyChooser } from './proxy.js'
import { nodeHeaders } from './node-headers.js'
import { refuse, show } from './validate.js'

/** The URL schemes the SDK knows; a platform opens some of them. */
export type Scheme = Endpoint['protocol']

/**
 * What differs between the Node and browser entries; each entry passes its own, nothing is sniffed.
 *
 * @example
 * ```ts
 * endpoints({ url: 'ws://localhost:9001' }, browserPlatform)
 * ```
 */
export interface Platform {
  readonly name: 'node' | 'browser'
  /** URL schemes this platform can open. */
  readonly schemes: readonly Scheme[]
  /** Scheme used for `brokerIp` without `protocol`. */
  readonly defaultScheme: 'mqtt' | 'ws'
  /** What a URL of a scheme it cannot open is told: where, and the schemes to use instead. */
  readonly unsupported: string
  /** Whether TLS options (`ca`, `cert`, `key`, ...) can be honoured (browsers use their own trust store). */
  readonly tlsOptions: boolean
  /** The TLS options its connections take, from the client's options; none when absent (browsers). */
  readonly tls?: (options: MQTTClientOptions) => TlsOptions
  /** Other names of schemes this platform opens (MQTT.js's own: `tcp` for mqtt, `ssl` and `tls` for mqtts). */
  readonly aliases?: Readonly<Record<string, Scheme>>
  /**
   * The protocol of the page the client runs in (`https:`, ...), read when a client is made: a page served
   * over https: cannot open ws:// (mixed content). Only the browser platform has a page.
   */
  readonly pageProtocol?: () => string | undefined
  /** Which proxy each endpoint goes through, from the `proxy` option or the environment, read once (Node only). */
  readonly proxy?: (option: string | false | undefined) => ProxyChooser
  /** Checks WebSocket handshake headers (Node only: a browser cannot send them). */
  readonly headers?: (option: string, headers: object) => Readonly<Record<string, string>>
}

/**
 * Node opens TCP, TLS and WebSocket connections. Pure (a call is kept by a bundler unless marked): a browser
 * app, which imports this module for `browserPlatform`, drops it.
 */
export const nodePlatform: Platform = /* @__PURE__ */ Object.freeze({
  name: 'node',
  schemes: /* @__PURE__ */ Object.freeze(['mqtt', 'mqtts', 'ws', 'wss'] as const),
  defaultScheme: 'mqtt',
  unsupported: 'is not supported in Node: use one of mqtt://, mqtts://, ws://, wss://',
  tlsOptions: true,
  tls: resolveTls,
  proxy: chooseProxy,
  headers: nodeHeaders,
  aliases: /* @__PURE__ */ Object.freeze({ tcp: 'mqtt', ssl: 'mqtts', tls: 'mqtts' } as const),
})

/** Browsers open WebSockets only, and trust what the browser trusts. */
export const browserPlatform: Platform = Object.freeze({
  name: 'browser',
  schemes: Object.freeze(['ws', 'wss'] as const),
  defaultScheme: 'ws',
  unsupported: 'is not supported in a browser: browsers can only open WebSockets: use ws:// or wss:// (the broker needs a websockets listener)',
  tlsOptions: false,
  // Read here, in the browser's own platform, so that no shared code sniffs for a browser.
  pageProtocol: () => (globalThis as { location?: { protocol?: unknown } }).location?.protocol as string | undefined,
})

/**
 * Hosts that browsers let an https: page reach over ws:// (they are "potentially trustworthy", as loopback
 * never leaves the machine): Chromium and Firefox allow them, so refusing them would break a working setup.
 */
const LOOPBACK = /^(localhost|.+\.localhost|127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1)$/i

/**
 * The one table of default ports, with two columns because the two ways of naming a broker differ for ws:
 * - `url` without a port: what MQTT.js connects to, so an endpoint says where the socket really goes
 *   (80 and 443 for WebSockets, as for any ws/wss URL);
 * - `brokerIp` without `brokerPort`: the original Python class's convention, which this option form
 *   reproduces, where ws means Mosquitto's usual websockets listener on 9001 (documented on `brokerPort`).
 */
const DEFAULT_PORTS = {
  url: { mqtt: 1883, mqtts: 8883, ws: 80, wss: 443 },
  brokerIp: { mqtt: 1883, mqtts: 8883, ws: 9001, wss: 443 },
} as const satisfies Record<'url' | 'brokerIp', Record<Scheme, number>>

// The WHATWG parser refuses a port above 65535 with a bare "Invalid URL"; this finds it to say so.
const PORT_IN_URL = /^[a-z][a-z\d+.-]*:\/\/(?:[^/?#@]*@)?(?:\[[^\]]*\]|[^/?#:@]*):(\d+)(?:[/?#]|$)/i

/**
 * The broker endpoints from `url` (one, or a list of cluster nodes), or from `brokerIp`/`brokerPort`/
 * `protocol`/`path`, each checked for the platform, default port filled in. Throws
 * {@link UnsupportedOptionError} for anything the platform cannot open. The list and each endpoint are frozen.
 *
 * @example
 * ```ts
 * endpoints({ url: ['mqtt://a', 'wss://[::1]/mqtt'] }, nodePlatform)
 * // [{ url: 'mqtt://a', protocol: 'mqtt', hostname: 'a', port: 1883, path: '' },
 * //  { url: 'wss://[::1]/mqtt', protocol: 'wss', hostname: '::1', port: 443, path: '/mqtt' }]
 * ```
 */
export function endpoints(options: MQTTClientOptions, platform: Platform): readonly Endpoint[] {
  if (options.brokerPort !== undefined) checkPort('`brokerPort`', options.brokerPort)
  const url: unknown = options.url
  let urls: readonly unknown[]
  if (url === undefined) urls = [brokerIpUrl(options, platform)]
  else if (Array.isArray(url)) urls = url
  else urls = [url]
  if (urls.length === 0) throw new UnsupportedOptionError('`url` is an empty list: give at least one broker URL')
  const result = urls.map((each) => endpoint(each, platform))
  const page = platform.pageProtocol?.()
  const insecure = page === 'https:' ? result.find((e) => e.protocol === 'ws' && !LOOPBACK.test(e.hostname)) : undefined
  if (insecure) {
    throw new UnsupportedOptionError(
      `${JSON.stringify(insecure.url)}: this page is served over https:, and browsers refuse ws:// from it (mixed content): use wss:// (a TLS websockets listener, or a TLS proxy in front of the broker)`,
    )
  }
  if (!platform.tlsOptions) {
    for (const key of ['ca', 'cert', 'key', 'passphrase'] as const) {
      if (options[key] !== undefined) {
        throw new UnsupportedOptionError(`\`${key}\` cannot be used in a browser: wss:// relies on the browser's own certificate store`)
      }
    }
  }
  return Object.freeze(result)
}

/** The URL that the Python-style options stand for. */
function brokerIpUrl(options: MQTTClientOptions, platform: Platform): string {
  if (!options.brokerIp) throw new UnsupportedOptionError('Give the broker as `url` (e.g. ws://localhost:9001) or as `brokerIp`')
  if (typeof options.brokerIp !== 'string') refuse('brokerIp', 'a host name or an IP address', options.brokerIp)
  if (options.path !== undefined && typeof options.path !== 'string') refuse('path', 'a string', options.path)
  const scheme = checkScheme(options.protocol ?? platform.defaultScheme, platform)
  const host = options.brokerIp.includes(':') && !options.brokerIp.startsWith('[') ? `[${options.brokerIp}]` : options.brokerIp
  const port = options.brokerPort ?? DEFAULT_PORTS.brokerIp[scheme]
  const path = options.path ?? '/'
  const wsPath = scheme === 'ws' || scheme === 'wss' ? (path.startsWith('/') ? path : `/${path}`) : ''
  return `${scheme}://${host}:${port}${wsPath}`
}

function endpoint(url: unknown, platform: Platform): Endpoint {
  if (typeof url !== 'string') throw new UnsupportedOptionError(`Not a URL: ${show(url)}`)
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch (error) {
    const port = PORT_IN_URL.exec(url)?.[1]
    if (port !== undefined) checkPort(`The port of \`url\` ${JSON.stringify(url)}`, Number(port), error)
    throw new UnsupportedOptionError(`Not a URL: ${JSON.stringify(url)}`, { cause: error })
  }
  const protocol = checkScheme(parsed.protocol.replace(/:$/, ''), platform, platform.aliases)
  // WHATWG leaves the host empty for `mqtt:///x`, where MQTT.js would quietly connect to localhost.
  if (parsed.hostname === '') throw new UnsupportedOptionError(`\`url\` ${JSON.stringify(url)} names no broker host`)
  // An empty port is a URL without one, or ws/wss with their default (which WHATWG drops).
  const port = parsed.port === '' ? DEFAULT_PORTS.url[protocol] : checkPort(`The port of \`url\` ${JSON.stringify(url)}`, Number(parsed.port))
  const ws = protocol === 'ws' || protocol === 'wss'
  return Object.freeze({
    url,
    protocol,
    hostname: parsed.hostname.replace(/^\[(.*)\]$/, '$1'),
    port,
    // MQTT.js's TCP builder treats a path as a Unix socket to open, so only WebSockets get one.
    path: ws ? parsed.pathname + parsed.search : '',
  })
}

/** `aliases`: whether the platform's other names count (in URLs, as MQTT.js takes them; not in the typed `protocol`). */
function checkScheme(given: string, platform: Platform, aliases: Readonly<Record<string, Scheme>> = {}): Scheme {
  const scheme = Object.hasOwn(aliases, given) ? (aliases[given] as Scheme) : given
  const found = platform.schemes.find((s) => s === scheme)
  if (found !== undefined) return found
  throw new UnsupportedOptionError(`${given}:// ${platform.unsupported}`)
}

/** A TCP port: MQTT.js would quietly replace 0 by the default port, so it is refused like any other. */
function checkPort(what: string, port: unknown, cause?: unknown): number {
  if (typeof port === 'number' && Number.isInteger(port) && port >= 1 && port <= 65_535) return port
  throw new UnsupportedOptionError(`${what} must be an integer from 1 to 65535 (a TCP port), not ${show(port)}`, cause === undefined ? {} : { cause })
}
