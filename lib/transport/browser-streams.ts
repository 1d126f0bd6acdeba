import { ENDPOINT_OPTION } from '../link/mqttjs/mqttjs-options.js'
import type { Endpoint } from '../options/resolved-options.js'

interface BrowserStreamOptions {
  [ENDPOINT_OPTION]?: Endpoint
  createWebsocket?: (url: string, protocols: string[]) => unknown
}

/**
 * A browser's streams for the MQTT.js link: the endpoint's subprotocols offered after `mqtt`, which MQTT.js's
 * browser builder does not offer itself (a page's one way to send a token besides the URL). Wraps the
 * (private) builder MQTT.js makes each attempt's stream with; given to the link by the browser runtime.
 *
 * @example
 * ```ts
 * const client = mqtt.connect(url, options)
 * browserStreamsOf(client)
 * ```
 */
export function browserStreamsOf(client: object): void {
  const internals = client as { streamBuilder?: (client: unknown) => unknown; options?: BrowserStreamOptions }
  const build = internals.streamBuilder
  if (typeof build !== 'function') return
  internals.streamBuilder = (mqttClient) => {
    const options = internals.options
    const subprotocols = options?.[ENDPOINT_OPTION]?.subprotocols
    if (options) {
      // MQTT.js keeps its options from one attempt to the next: what an earlier attempt set goes first.
      delete options.createWebsocket
      if (subprotocols) options.createWebsocket = (url, protocols) => new WebSocket(url, [...protocols, ...subprotocols])
    }
    return build(mqttClient)
  }
}
