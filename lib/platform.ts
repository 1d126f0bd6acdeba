import { UnsupportedOptionError } from './errors.js'
import type { MQTTClientOptions } from './options.js'

/** What differs between the Node and browser entries; each entry passes its own, nothing is sniffed. */
export interface Platform {
  readonly name: 'node' | 'browser'
  /** URL schemes this platform can open. */
  readonly schemes: readonly string[]
  /** Scheme used for `brokerIp` without `protocol`. */
  readonly defaultScheme: 'mqtt' | 'ws'
  /** Whether TLS options (`ca`, `cert`, `key`, ...) can be honoured (browsers use their own trust store). */
  readonly tlsOptions: boolean
}

const DEFAULT_PORTS: Record<string, number> = { mqtt: 1883, mqtts: 8883, ws: 9001, wss: 443 }

/**
 * The broker URLs from `url` (one, or a list of cluster nodes), or from `brokerIp`/`brokerPort`/`protocol`/
 * `path`, each checked for the platform.
 */
export function brokerUrls(options: MQTTClientOptions, platform: Platform): string[] {
  if (Array.isArray(options.url)) {
    if (options.url.length === 0) throw new UnsupportedOptionError('`url` is an empty list: give at least one broker URL')
    return options.url.map((url) => brokerUrl({ ...options, url }, platform))
  }
  return [brokerUrl({ ...options, url: options.url as string | undefined }, platform)]
}

function brokerUrl(options: MQTTClientOptions & { url: string | undefined }, platform: Platform): string {
  let url = options.url
  if (url === undefined) {
    if (!options.brokerIp) throw new UnsupportedOptionError('Give the broker as `url` (e.g. ws://localhost:9001) or as `brokerIp`')
    const scheme = options.protocol ?? platform.defaultScheme
    const host = options.brokerIp.includes(':') && !options.brokerIp.startsWith('[') ? `[${options.brokerIp}]` : options.brokerIp
    const port = options.brokerPort ?? DEFAULT_PORTS[scheme]
    const path = scheme.startsWith('ws') ? (options.path ?? '/') : ''
    url = `${scheme}://${host}:${port}${path}`
  }
  let scheme: string
  try {
    scheme = new URL(url).protocol.replace(/:$/, '')
  } catch (error) {
    throw new UnsupportedOptionError(`Not a URL: ${JSON.stringify(url)}`, { cause: error })
  }
  if (!platform.schemes.includes(scheme)) {
    const hint = platform.name === 'browser'
      ? 'browsers can only open WebSockets: use ws:// or wss:// (the broker needs a websockets listener)'
      : `use one of ${platform.schemes.map((s) => `${s}://`).join(', ')}`
    throw new UnsupportedOptionError(`${scheme}:// is not supported in ${platform.name === 'browser' ? 'a browser' : 'Node'}: ${hint}`)
  }
  if (!platform.tlsOptions) {
    for (const key of ['ca', 'cert', 'key', 'passphrase'] as const) {
      if (options[key] !== undefined) {
        throw new UnsupportedOptionError(`\`${key}\` cannot be used in a browser: wss:// relies on the browser's own certificate store`)
      }
    }
  }
  return url
}

export const nodePlatform: Platform = { name: 'node', schemes: ['mqtt', 'mqtts', 'ws', 'wss'], defaultScheme: 'mqtt', tlsOptions: true }

export const browserPlatform: Platform = { name: 'browser', schemes: ['ws', 'wss'], defaultScheme: 'ws', tlsOptions: false }
