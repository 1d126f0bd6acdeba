import type { connectProperties } from '../connect-properties.js'
import type { Attempt, LinkSettings } from '../link.js'

/**
 * The MQTT.js option under which the link hands each attempt's endpoint (its proxy, headers, subprotocols) to
 * Node's stream builder (lib/transport/mqttjs-streams.ts); MQTT.js itself ignores it.
 */
export const ENDPOINT_OPTION = 'iotpubsubEndpoint'

// Plain objects, their types inferred: mqttjs-link.ts, the one module that imports `mqtt`, checks them against
// MQTT.js's IClientOptions where it passes them on.

/**
 * MQTT.js's options for the client's whole life: the session, the keepalive, the will, TLS. Reconnects,
 * resubscription and the retry policy are the engine's, so MQTT.js's own are switched off.
 *
 * @example
 * ```ts
 * const client = mqtt.connect(url, { ...sessionOptions(settings), ...attemptOptions(attempt, settings, connectProperties) })
 * ```
 */
export function sessionOptions(settings: LinkSettings) {
  const options = {
    clientId: settings.clientId,
    clean: settings.clean,
    keepalive: settings.keepalive,
    connectTimeout: settings.connectTimeout,
    // MQTT.js's own reconnect timer is set beyond any outage. Not 0: with 0, MQTT.js rejects every in-flight
    // publish on a keepalive timeout.
    reconnectPeriod: 2 ** 31 - 1,
    resubscribe: false,
    manualConnect: true,
    ...settings.tls,
  }
  return settings.will ? { ...options, will: { ...settings.will, payload: settings.will.payload as string } } : options
}

/**
 * The per-attempt part of MQTT.js's options: the node, the protocol level and the credentials (MQTT.js reads
 * them from its options object at each connect, so the link writes them there from the attempt alone).
 *
 * @example
 * ```ts
 * Object.assign(client.options, attemptOptions(attempt, settings, connectProperties))
 * ```
 */
export function attemptOptions(attempt: Attempt, settings: LinkSettings, properties: typeof connectProperties) {
  const { endpoint } = attempt
  return {
    protocol: endpoint.protocol,
    hostname: endpoint.hostname,
    host: endpoint.hostname,
    port: endpoint.port,
    path: endpoint.path,
    // Node: the handshake's headers (`ws` takes them from `wsOptions`), and the endpoint for its stream builder.
    wsOptions: endpoint.headers ? { headers: { ...endpoint.headers } } : {},
    [ENDPOINT_OPTION]: endpoint,
    protocolVersion: attempt.protocolVersion,
    username: attempt.username,
    password: attempt.password,
    // No Receive Maximum, unlike the lean link: MQTT.js closes the connection (0x93) when a broker has more QoS 2
    // messages unacknowledged than announced, and Mosquitto 2.0.11 does once acknowledgements flow. What the
    // broker sends while the app holds a message waits in the link, bounded (held-messages.ts).
    properties: attempt.protocolVersion === 5 ? properties(settings) : undefined,
  }
}

