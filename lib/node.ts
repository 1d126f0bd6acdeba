/**
 * iotpubsub for node: MQTT topics as ref-counted RxJS Observables.
 * node entry: mqtt://, mqtts:// (with client certificates), ws:// and wss://.
 * The package's `exports` conditions choose this file; the API is the same in both entries.
 */
import { debugConsole } from './log/debug-console.js'
import type { MQTTClient as ClientApi } from './client/api.js'
import { Client, type ClientRuntime } from './client/client.js'
import { nodeTransportVerdict } from './connection/close-diagnosis.js'
import { leanLinks } from './link/lean/lean-link.js'
import { linkKit } from './link/link-kit.js'
import { mqttJsLinks } from './link/mqttjs/mqttjs-link.js'
import { nodePlatform } from './options/endpoints.js'
import type { ClientOptions, MQTTClientOptions } from './options/client-options.js'
import { linkChoice } from './options/link-choice.js'
import type { LinkEvents, LinkSettings } from './link/link.js'
import { openNodeTransport } from './transport/node-transports.js'
import { nodeStreamsOf } from './transport/mqttjs-streams.js'

const mqttJs = mqttJsLinks({ ...linkKit, streamsOf: nodeStreamsOf })
const lean = leanLinks(openNodeTransport)

const runtime: ClientRuntime = Object.freeze({
  platform: nodePlatform,
  links: (settings: LinkSettings, events: LinkEvents) => (settings.link === 'lean' ? lean : mqttJs)(settings, events),
  // The lean link, unless IOTPUBSUB_LINK says otherwise (read per client): `IOTPUBSUB_LINK=mqttjs` goes back to
  // MQTT.js without a code change.
  defaultLink: () => linkChoice(process.env.IOTPUBSUB_LINK || undefined, 'lean', 'IOTPUBSUB_LINK'),
  defer: setImmediate,
  // IOTPUBSUB_DEBUG=1 turns the debug log on, to the console, for a client given no logger of its own
  // (IOTPUBSUB_DEBUG=trace: each publish and its outcome too).
  debugLogger: () => debugConsole(process.env.IOTPUBSUB_DEBUG),
  // A port that speaks another protocol than the URL's, a certificate refused: told only by Node's transports.
  transportVerdict: nodeTransportVerdict,
})

/**
 * A client for one broker connection. It starts connecting at once; see {@link connect} for the short form.
 *
 * @example
 * ```ts
 * const client = new MQTTClient({ clientId: 'test_client', brokerIp: '192.168.1.103', brokerPort: 1883, username, password })
 * client.observe('sensors/#', { codec: 'json' }).subscribe((m) => console.log(m.topic, m.payload))
 * ```
 */
export interface MQTTClient extends ClientApi {}

/** Creates a client and starts connecting (options are checked at once: `UnsupportedOptionError`). */
export const MQTTClient: new (options: MQTTClientOptions) => MQTTClient = class MQTTClient extends Client {
  constructor(options: MQTTClientOptions) {
    super(options, runtime)
  }
}

/**
 * Connects to a broker and returns the client. Throws `UnsupportedOptionError` for a URL this platform
 * cannot open or an option that makes no sense.
 *
 * @example
 * ```ts
 * const client = connect('mqtt://localhost:1883', { clientId: 'dash-1', username, password })
 * await client.publish('rooms/kitchen/temp', { celsius: 21.5 }, { qos: 1 })
 * await client.end()
 * ```
 */
export function connect(url: string | readonly string[], options: ClientOptions = {}): MQTTClient {
  return new MQTTClient({ ...options, url })
}

export { fileStore } from './store/file-store.js'
export * from './exports.js'
