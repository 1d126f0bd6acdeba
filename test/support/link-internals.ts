// What a fault test reads of a client's link that the API does not show: the bytes it holds for its socket,
// and whether a packet identifier is still in use. Both read private fields of the two links, so a test can
// assert what the SDK promises about memory and identifiers without measuring RSS or publishing 65,535 times.
import { Client, type ClientRuntime } from '../../lib/client/client.js'
import { nodeTransportVerdict } from '../../lib/connection/close-diagnosis.js'
import { leanLinks } from '../../lib/link/lean/lean-link.js'
import { linkKit } from '../../lib/link/link-kit.js'
import type { Link } from '../../lib/link/link.js'
import { mqttJsLinks } from '../../lib/link/mqttjs/mqttjs-link.js'
import type { MQTTClient, MQTTClientOptions } from '../../lib/node.js'
import { nodePlatform } from '../../lib/options/endpoints.js'
import { openNodeTransport } from '../../lib/transport/node-transports.js'
import type { OpenTransport, Transport } from '../../lib/transport/transport.js'

/** The MQTT.js link's client, a TypeScript-private field. */
interface MqttJsInternals {
  readonly mqtt?: {
    readonly stream?: { readonly writableLength?: number }
    readonly outgoing: Record<number, unknown>
    readonly messageIdProvider: { allocate(): number | null }
  }
}

/** The lean link's publishing side, a TypeScript-private field. */
interface LeanInternals {
  readonly flow?: { readonly store: { has(packetId: number): boolean } }
}

/** A client and the bytes its link holds for the socket, not yet taken by the operating system. */
export interface MeasuredClient {
  readonly client: MQTTClient
  unsentBytes(): number
  /** The client's current link. */
  link(): Link | undefined
}

/**
 * A client made as `connect()` makes it, but with its link's transports recorded, so that `unsentBytes()` can
 * tell what the link holds unsent: the lean transport's `buffered`, or the MQTT.js stream's `writableLength`.
 *
 * @example
 * ```ts
 * const { client, unsentBytes } = measuredClient({ url: proxy.url, clientId: 'c1' })
 * expect(unsentBytes()).toBeLessThanOrEqual(HIGH_WATER_MARK + packet)
 * ```
 */
export function measuredClient(options: MQTTClientOptions): MeasuredClient {
  const transports: Transport[] = []
  const recording: OpenTransport = (endpoint, tls, events, timers) => {
    const transport = openNodeTransport(endpoint, tls, events, timers)
    transports.push(transport)
    return transport
  }
  let link: Link | undefined
  const lean = leanLinks(recording)
  const mqttJs = mqttJsLinks(linkKit)
  const runtime: ClientRuntime = {
    platform: nodePlatform,
    links: (settings, events) => (link = (settings.link === 'lean' ? lean : mqttJs)(settings, events)),
    defer: setImmediate,
    debugLogger: () => undefined,
    transportVerdict: nodeTransportVerdict,
  }
  const client = new Client(options, runtime)
  const unsentBytes = (): number => {
    const mqtt = (link as unknown as MqttJsInternals | undefined)?.mqtt
    if (mqtt) return mqtt.stream?.writableLength ?? 0
    return transports.at(-1)?.buffered ?? 0
  }
  return { client, unsentBytes, link: () => link }
}

/**
 * Whether the client's link holds `packetId` in use (a publish flow it has not seen end). The lean link's
 * store answers directly; the MQTT.js link's allocator is asked for every identifier once (it skips those in
 * use and those MQTT.js tracks), which moves its counter
 * on but takes no identifier.
 */
export function packetIdInUse(client: MQTTClient, packetId: number): boolean {
  const link = (client as unknown as { link: LeanInternals & MqttJsInternals }).link
  if (link.flow) return link.flow.store.has(packetId)
  const ids = link.mqtt?.messageIdProvider
  if (!ids) return false
  for (let i = 0; i < 65_535; i++) {
    const id = ids.allocate()
    if (id === null) return true
    if (id === packetId) return false
  }
  return true
}
