import { UnsupportedOptionError } from '../errors.js'
import type { Endpoint, ProxyEndpoint } from './resolved-options.js'

/** curl's port for a proxy URL that names none: 443 for https://, 1080 for the others. */
const CURL_PROXY_PORT = 1080
const CURL_HTTPS_PROXY_PORT = 443
/** The variables each scheme reads, in curl's order (lowercase first); `all_proxy` is every one's fallback. */
const VARIABLES: Record<Endpoint['protocol'], readonly string[]> = {
  ws: ['http_proxy', 'HTTP_PROXY'],
  wss: ['https_proxy', 'HTTPS_PROXY'],
  mqtt: [],
  mqtts: [],
}
const ALL = ['all_proxy', 'ALL_PROXY']
const NO = ['no_proxy', 'NO_PROXY']

/** Which proxy an endpoint goes through; undefined: none. */
export type ProxyChooser = (endpoint: Endpoint) => ProxyEndpoint | undefined

/**
 * Node's reading of `proxy`, once, at `connect()`: `false` never a proxy; a URL that one for every endpoint;
 * left out, the environment as curl reads it (`http_proxy` for ws://, `https_proxy` for wss://, `all_proxy`
 * for mqtt:// and mqtts:// and as every one's fallback, lowercase before uppercase; `no_proxy` honoured:
 * `*`, host names with their subdomains, IP addresses and CIDR ranges, IPv6 with or without brackets, each
 * but a range with an optional port). Loopback goes through the
 * proxy unless `no_proxy` lists it, as with curl. Throws {@link UnsupportedOptionError} for a proxy URL it
 * cannot use, naming the option or variable.
 *
 * @example
 * ```ts
 * const choose = chooseProxy(undefined, { HTTPS_PROXY: 'http://proxy:3128', NO_PROXY: '.internal' })
 * choose(endpoint) // { url: 'http://proxy:3128', protocol: 'http', hostname: 'proxy', port: 3128 } for wss://broker.example.com
 * ```
 */
export function chooseProxy(option: string | false | undefined, env: Readonly<Record<string, string | undefined>> = process.env): ProxyChooser {
  if (option === false) return () => undefined
  if (option !== undefined) {
    const proxy = parseProxyUrl('`proxy`', option)
    return () => proxy
  }
  const read = (names: readonly string[]): [string, ProxyEndpoint] | undefined => {
    for (const name of names) {
      const value = env[name]?.trim()
      if (value) return [name, parseProxyUrl(`the environment variable ${name}`, value)]
    }
    return undefined
  }
  const all = read(ALL)
  const byScheme = Object.fromEntries(Object.entries(VARIABLES).map(([scheme, names]) => [scheme, read(names) ?? all])) as Record<Endpoint['protocol'], [string, ProxyEndpoint] | undefined>
  const noProxy = NO.map((name) => env[name]).find((value) => value !== undefined && value.trim() !== '')
  const bypass = parseNoProxy(noProxy ?? '')
  return (endpoint) => {
    const chosen = byScheme[endpoint.protocol]
    if (!chosen || bypass(endpoint.hostname, endpoint.port)) return undefined
    return chosen[1]
  }
}

/**
 * A proxy URL, checked: `http://` (CONNECT), `https://` (CONNECT over TLS to the proxy; `protocol` is `http`,
 * the URL says TLS) or `socks5://`/`socks5h://`, credentials percent-decoded, curl's port (443 for https://,
 * 1080 for the others) when it names none; a bare `host:port` is HTTP, as curl takes it.
 *
 * @example
 * ```ts
 * parseProxyUrl('`proxy`', 'socks5://u:p%40ss@127.0.0.1:1080') // { url: 'socks5://127.0.0.1:1080', protocol: 'socks5', ..., password: 'p@ss' }
 * ```
 */
export function parseProxyUrl(from: string, value: string): ProxyEndpoint {
  const text = /^[a-z][a-z\d+.-]*:\/\//i.test(value) ? value : `http://${value}`
  let url: URL
  try {
    url = new URL(text)
  } catch (error) {
    throw new UnsupportedOptionError(`${from} is not a proxy URL: ${JSON.stringify(redact(value))}`, { cause: error })
  }
  const scheme = url.protocol.slice(0, -1).toLowerCase()
  if (scheme !== 'http' && scheme !== 'https' && scheme !== 'socks5' && scheme !== 'socks5h') {
    throw new UnsupportedOptionError(
      `${from}: ${scheme}:// proxies are not supported: use http:// or https:// (HTTP CONNECT) or socks5:// (socks5h:// to resolve names at the proxy)`,
    )
  }
  if (url.hostname === '') throw new UnsupportedOptionError(`${from} names no proxy host: ${JSON.stringify(redact(value))}`)
  // URL drops a port that is its scheme's default (http://proxy:80), which is not curl's default: read the text.
  const written = /^[^:]+:\/\/(?:[^@/?#]*@)?(?:\[[^\]]*\]|[^:/?#]*):(\d+)/.exec(text)?.[1]
  const port = written !== undefined ? Number(written) : scheme === 'https' ? CURL_HTTPS_PROXY_PORT : CURL_PROXY_PORT
  const host = url.hostname
  const credentials = url.username === '' ? {} : { username: decodeURIComponent(url.username), password: decodeURIComponent(url.password) }
  return Object.freeze({ url: `${scheme}://${host}:${port}`, protocol: scheme === 'https' ? 'http' : scheme, hostname: host.replace(/^\[(.*)\]$/, '$1'), port, ...credentials })
}

/**
 * `no_proxy` as a test of host and port, read as curl reads it (with Go's `host:port` too): `*` bypasses every
 * host; an IP address (IPv6 with or without brackets) matches that address, or with `/bits` (CIDR) a range of
 * them, compared as addresses (`::1` is `0:0::1`); a name matches itself and its subdomains (a leading `.` or
 * `*.` changes nothing). Any but a CIDR range may end in `:port`. Names are not resolved, as curl does not: an
 * address entry matches URLs that give the address. An entry none of these can read matches nothing.
 */
function parseNoProxy(value: string): (hostname: string, port: number) => boolean {
  const entries = value.split(/[\s,]+/).filter(Boolean)
  if (entries.includes('*')) return () => true
  const rules = entries.map(noProxyRule)
  return (hostname, port) => {
    const name = hostname.toLowerCase().replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '')
    const address = ipBytes(name)
    return rules.some((rule) => (rule.port === undefined || rule.port === port) && rule.matches(name, address))
  }
}

interface NoProxyRule {
  readonly port: number | undefined
  matches(name: string, address: readonly number[] | undefined): boolean
}

function noProxyRule(entry: string): NoProxyRule {
  const cidr = /^\[?([\da-f.:]+)\]?\/(\d{1,3})$/i.exec(entry)
  if (cidr) {
    const network = ipBytes(cidr[1]!)
    const bits = Number(cidr[2])
    if (!network || bits > network.length * 8) return { port: undefined, matches: () => false }
    return { port: undefined, matches: (_, address) => address !== undefined && address.length === network.length && samePrefix(address, network, bits) }
  }
  // `[v6]:port`, `name:port`, or a bare IPv6 address, whose colons are its own.
  const match = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry) ?? (ipBytes(entry) ? null : /^([^:]+)(?::(\d+))?$/.exec(entry))
  const host = (match ? match[1]! : entry).toLowerCase()
  const port = match?.[2] === undefined ? undefined : Number(match[2])
  const exact = ipBytes(host)
  if (exact) return { port, matches: (_, address) => address !== undefined && address.length === exact.length && samePrefix(address, exact, exact.length * 8) }
  const name = host.replace(/^\*?\./, '').replace(/\.$/, '')
  return { port, matches: (hostname) => hostname === name || hostname.endsWith(`.${name}`) }
}

function samePrefix(a: readonly number[], b: readonly number[], bits: number): boolean {
  for (let i = 0; i * 8 < bits; i++) {
    const mask = bits - i * 8 >= 8 ? 0xff : (0xff << (8 - (bits - i * 8))) & 0xff
    if (((a[i] as number) & mask) !== ((b[i] as number) & mask)) return false
  }
  return true
}

/** The bytes of an IPv4 (4) or IPv6 (16) address in text, an IPv6 zone dropped; undefined for anything else. */
function ipBytes(text: string): number[] | undefined {
  const v4 = (part: string): number[] | undefined => {
    const octets = part.split('.')
    if (octets.length !== 4 || !octets.every((o) => /^\d{1,3}$/.test(o) && Number(o) <= 255)) return undefined
    return octets.map(Number)
  }
  if (!text.includes(':')) return v4(text)
  const halves = text.replace(/%.*$/, '').split('::')
  if (halves.length > 2) return undefined
  const groups = (part: string): number[] | undefined => {
    if (part === '') return []
    const out: number[] = []
    const items = part.split(':')
    for (const [i, item] of items.entries()) {
      const tail = i === items.length - 1 && item.includes('.') ? v4(item) : undefined
      if (tail) out.push(tail[0]! * 256 + tail[1]!, tail[2]! * 256 + tail[3]!)
      else if (/^[\da-f]{1,4}$/i.test(item)) out.push(parseInt(item, 16))
      else return undefined
    }
    return out
  }
  const head = groups(halves[0]!)
  const tail = halves.length === 2 ? groups(halves[1]!) : []
  if (!head || !tail) return undefined
  const missing = 8 - head.length - tail.length
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined
  return [...head, ...new Array<number>(missing).fill(0), ...tail].flatMap((g) => [g >> 8, g & 0xff])
}

/** A proxy URL as an error message may show it: without its password. */
function redact(value: string): string {
  return value.replace(/\/\/([^/@:]*):[^/@]*@/, '//$1:***@')
}
