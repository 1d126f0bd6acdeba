/**
 * iotpubsub for browser: MQTT topics as ref-counted RxJS Observables.
 * browser entry: ws:// and wss:// (the browser's own certificate store verifies wss://).
 * The package's `exports` conditions choose this file; the API is the same in both entries.
 */
import type { MQTTClient as ClientApi } from './client/api.js'
import { Client, type ClientRuntime } from './client/client.js'
import { mqttJsLinks } from './link/mqttjs-link.js'
import { listenToPage } from './lifecycle/page-lifecycle.js'
import { workerIntervals } from './lifecycle/worker-intervals.js'
import { browserPlatform } from './options/endpoints.js'
import type { ClientOptions, MQTTClientOptions } from './options/client-options.js'
import { sharedConnection } from './shared/share-connection.js'

const runtime: ClientRuntime = Object.freeze({
  platform: browserPlatform,
  // The keepalive's timers in a Worker of each client's own: a hidden tab's timers are throttled to one a minute.
  links: mqttJsLinks(() => workerIntervals()),
  defer: (callback: () => void) => setTimeout(callback, 0),
  // localStorage.setItem('iotpubsub:debug', '1') in the devtools console (then reload) turns the debug log on.
  debugLogger: () => (debugSwitch() ? console : undefined),
  lifecycle: listenToPage,
})

function debugSwitch(): boolean {
  try {
    const flag = globalThis.localStorage?.getItem('iotpubsub:debug')
    return flag !== null && flag !== undefined && flag !== '0'
  } catch {
    // Storage can be off limits (sandboxed frames, some privacy modes): no switch then.
    return false
  }
}

/**
 * A client for one broker connection. It starts connecting at once; see {@link connect} for the short form.
 *
 * @example
 * ```ts
 * const client = new MQTTClient({ clientId: 'test_client', brokerIp: '192.168.1.103', brokerPort: 9001, username, password })
 * client.observe('sensors/#', { codec: 'json' }).subscribe((m) => console.log(m.topic, m.payload))
 * ```
 */
export interface MQTTClient extends ClientApi {}

/** Creates a client and starts connecting (options are checked at once: `UnsupportedOptionError`). */
export const MQTTClient: new (options: MQTTClientOptions) => MQTTClient = class MQTTClient extends Client {
  constructor(options: MQTTClientOptions) {
    // `sharedConnection: true`: a client of the tabs' shared connection stands in for this one (same API).
    const shared = sharedConnection(options, runtime)
    if (shared) return shared as Client
    super(options, runtime)
  }
}

/**
 * Connects to a broker and returns the client. Throws `UnsupportedOptionError` for a URL this platform
 * cannot open (browsers: `ws://` and `wss://` only) or an option that makes no sense.
 *
 * @example
 * ```ts
 * const client = connect('ws://localhost:9001', { clientId: 'dash-1', username, password })
 * await client.publish('rooms/kitchen/temp', { celsius: 21.5 }, { qos: 1 })
 * await client.end()
 * ```
 */
export function connect(url: string | readonly string[], options: ClientOptions = {}): MQTTClient {
  return new MQTTClient({ ...options, url })
}

export * from './exports.js'
