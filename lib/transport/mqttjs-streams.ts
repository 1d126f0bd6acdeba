import type { Socket } from 'node:net'
import WebSocket from 'ws'
import { ENDPOINT_OPTION } from '../link/mqttjs/mqttjs-options.js'
import type { Endpoint } from '../options/resolved-options.js'
import { connectSecure } from './node-socket.js'
import { ProxyTunnel } from './proxy-tunnel.js'


interface StreamOptions {
  [ENDPOINT_OPTION]?: Endpoint
  wsOptions?: WebSocket.ClientOptions
  createWebsocket?: (url: string, protocols: string[], options: StreamOptions) => unknown
  [tls: string]: unknown
}

/**
 * Node's streams for the MQTT.js link, where MQTT.js's own do not reach: through the attempt's proxy (a
 * {@link ProxyTunnel} for mqtt://, TLS over it for mqtts://, and `ws`'s `createConnection` for ws:// and
 * wss://, the handshake's headers going in `wsOptions`), and with the endpoint's subprotocols after `mqtt`.
 * Wraps the (private) builder MQTT.js makes each attempt's stream with, as the link's other wrappers do;
 * attempts with none of these get MQTT.js's stream as it is. Given to the MQTT.js link by the Node entry only.
 *
 * @example
 * ```ts
 * const client = mqtt.connect(url, options)
 * nodeStreamsOf(client) // before the transport watch wraps the builder
 * ```
 */
export function nodeStreamsOf(client: object): void {
  const internals = client as { streamBuilder?: (client: unknown) => unknown; options?: StreamOptions }
  const build = internals.streamBuilder
  if (typeof build !== 'function') return
  internals.streamBuilder = (mqttClient) => {
    const options = internals.options
    const endpoint = options?.[ENDPOINT_OPTION]
    if (!options || !endpoint) return build(mqttClient)
    const { proxy, subprotocols } = endpoint
    const ws = endpoint.protocol === 'ws' || endpoint.protocol === 'wss'
    // MQTT.js keeps its options from one attempt to the next: what an earlier attempt set goes first.
    delete options.createWebsocket
    if (ws && (proxy || subprotocols)) {
      options.createWebsocket = (url, protocols, given) => {
        const wsOptions: WebSocket.ClientOptions = { ...given.wsOptions }
        if (proxy) {
          wsOptions.createConnection = () => {
            const tunnel = new ProxyTunnel(proxy, endpoint.hostname, endpoint.port) as unknown as Socket
            return endpoint.protocol === 'wss' ? connectSecure(endpoint, tlsOf(given), tunnel) : tunnel
          }
        }
        return new WebSocket(url, [...protocols, ...(subprotocols ?? [])], wsOptions)
      }
      return build(mqttClient)
    }
    if (!proxy) return build(mqttClient)
    const tunnel = new ProxyTunnel(proxy, endpoint.hostname, endpoint.port) as unknown as Socket
    return endpoint.protocol === 'mqtts' ? connectSecure(endpoint, tlsOf(options), tunnel) : tunnel
  }
}

/** The TLS settings among MQTT.js's options, as the link passed them (lib/link/mqttjs/mqttjs-options.ts). */
function tlsOf(options: StreamOptions): Readonly<Record<string, unknown>> {
  const keys = ['ca', 'cert', 'key', 'passphrase', 'servername', 'rejectUnauthorized'] as const
  return Object.fromEntries(keys.filter((key) => options[key] !== undefined).map((key) => [key, options[key]]))
}
