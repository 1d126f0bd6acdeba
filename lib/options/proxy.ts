import { UnsupportedOptionError } from '../errors.js'
import type { Endpoint, ProxyEndpoint } from './resolved-options.js'

/** curl's port for a proxy URL that names none, whatever its scheme. */
const CURL_PROXY_PORT = 1080
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
 * `*`, host names with their subdomains, IP addresses, each with an optional port). Loopback goes through the
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
 * A proxy URL, checked: `http://` (CONNECT) or `socks5://`/`socks5h://`, credentials percent-decoded, curl's
 * port 1080 when it names none; a bare `host:port` is HTTP, as curl takes it.
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
  if (scheme !== 'http' && scheme !== 'socks5' && scheme !== 'socks5h') {
    throw new UnsupportedOptionError(
      `${from}: ${scheme}:// proxies are not supported: use http:// (HTTP CONNECT) or socks5:// (socks5h:// to resolve names at the proxy)`,
    )
  }
  if (url.hostname === '') throw new UnsupportedOptionError(`${from} names no proxy host: ${JSON.stringify(redact(value))}`)
  const port = url.port === '' ? CURL_PROXY_PORT : Number(url.port)
  const host = url.hostname
  const credentials = url.username === '' ? {} : { username: decodeURIComponent(url.username), password: decodeURIComponent(url.password) }
  return Object.freeze({ url: `${scheme}://${host}:${port}`, protocol: scheme, hostname: host.replace(/^\[(.*)\]$/, '$1'), port, ...credentials })
}

/** `no_proxy` as a test of host and port: `*` bypasses every host; other entries a host, its subdomains, an optional port. */
function parseNoProxy(value: string): (hostname: string, port: number) => boolean {
  const entries = value.split(/[\s,]+/).filter(Boolean)
  if (entries.includes('*')) return () => true
  const rules = entries.map((entry) => {
    const match = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry) ?? /^([^:]+)(?::(\d+))?$/.exec(entry)
    // An IPv6 address without brackets has colons of its own: all of it is the host.
    const host = (match ? match[1] : entry) as string
    return { host: host.replace(/^\*?\./, '').toLowerCase(), port: match?.[2] === undefined ? undefined : Number(match[2]) }
  })
  return (hostname, port) => {
    const name = hostname.toLowerCase().replace(/\.$/, '')
    return rules.some((rule) => (rule.port === undefined || rule.port === port) && (name === rule.host || name.endsWith(`.${rule.host}`)))
  }
}

/** A proxy URL as an error message may show it: without its password. */
function redact(value: string): string {
  return value.replace(/\/\/([^/@:]*):[^/@]*@/, '//$1:***@')
}
