import { checkCredentials } from '../connection/credentials-policy.js'
import { UnsupportedOptionError } from '../errors.js'
import type { MQTTClientOptions } from './client-options.js'
import { endpoints, type Platform } from './endpoints.js'
import { checkHeaders, type Dress } from './handshake.js'
import type { AttemptCredentials, Endpoint, ResolvedOptions } from './resolved-options.js'
import { refuse } from './validate.js'

/**
 * The `credentials` provider, wrapped so that what it returns is checked at each attempt (a bad answer fails
 * that attempt as a failing provider does): the user name and password, a `url` of the attempt's own (a
 * platform's URL, dressed with the proxy and handshake options like the client's URLs; its query hidden from
 * `url`, which status and log show), and `headers` (Node, ws:// and wss:// only).
 *
 * @example
 * ```ts
 * const credentials = attemptCredentials(() => ({ url: signed() }), 'auto', nodePlatform, dress)
 * const { endpoint } = await credentials(node) // endpoint.path holds the signed query
 * ```
 */
export function attemptCredentials(
  provider: MQTTClientOptions['credentials'],
  protocolVersion: 4 | 5 | 'auto',
  platform: Platform,
  dress: Dress,
): ResolvedOptions['credentials'] {
  if (provider === undefined) return undefined
  if (typeof provider !== 'function') refuse('credentials', 'a function returning { username, password }', provider)
  return async (node?: Endpoint): Promise<AttemptCredentials> => {
    const returned: unknown = await provider()
    const { username, password } = checkCredentials(returned, protocolVersion, 'credentials().')
    const { url, headers } = returned as { url?: unknown; headers?: unknown }
    const own = url === undefined ? node : attemptEndpoint(url, platform)
    if (headers === undefined || headers === null) return { username, password, endpoint: own && dress(own) }
    let checked: Readonly<Record<string, string>>
    try {
      checked = checkHeaders('credentials().headers', headers, platform)
    } catch (error) {
      // A browser cannot send any: that is no answer's fault.
      throw platform.headers ? error : impossible(error as Error)
    }
    if (own && own.protocol !== 'ws' && own.protocol !== 'wss') {
      throw impossible(new UnsupportedOptionError(`\`credentials().headers\` go with a WebSocket handshake, and ${own.url} is ${own.protocol}://`))
    }
    return { username, password, endpoint: own && dress(own, checked) }
  }
}

/** The provider's answers that no retry can make work: handshake headers a browser or a non-WebSocket URL cannot carry. */
const IMPOSSIBLE = new WeakSet<object>()

/**
 * Whether a provider's answer failed for what this client cannot do at all (headers in a browser, headers for
 * an mqtt:// URL): the connection ends then, where a malformed answer (a NUL, no object) only fails the attempt,
 * since the provider may answer better the next time.
 *
 * @example
 * ```ts
 * if (noRetryCanFix(error)) fail(error) // else back off and ask the provider again
 * ```
 */
export function noRetryCanFix(error: unknown): boolean {
  return typeof error === 'object' && error !== null && IMPOSSIBLE.has(error)
}

function impossible<E extends Error>(error: E): E {
  IMPOSSIBLE.add(error)
  return error
}

/** The provider's URL as an endpoint; its `url` without the query, which carries the signature. */
function attemptEndpoint(url: unknown, platform: Platform): Endpoint {
  if (typeof url !== 'string') refuse('credentials().url', 'a URL string', url)
  let endpoint: Endpoint
  try {
    endpoint = endpoints({ url }, platform)[0] as Endpoint
  } catch (error) {
    throw new UnsupportedOptionError(`\`credentials().url\`: ${error instanceof Error ? error.message.replace(url, shown(url)) : String(error)}`, { cause: error })
  }
  return Object.freeze({ ...endpoint, url: shown(url) })
}

/** A URL as status and log show it: its query, where signatures and tokens travel, as `?…`. */
function shown(url: string): string {
  const query = url.indexOf('?')
  return query < 0 ? url : `${url.slice(0, query)}?…`
}
