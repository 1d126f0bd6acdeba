/**
 * iotpubsub for browser: MQTT topics as ref-counted RxJS Observables.
 * browser entry: ws:// and wss:// (the browser's own certificate store verifies wss://).
 * The package's `exports` conditions choose this file; the API is the same in both entries. Each client has a
 * connection of its own; `iotpubsub/shared` (lib/shared/index.ts) has the same API with one connection shared
 * by the tabs, and is a subpath of its own so that an app that does not share ships none of it.
 */
import type { MQTTClient as ClientApi } from './client/api.js'
import { Client } from './client/client.js'
import { browserRuntime } from './browser-runtime.js'
import type { ClientOptions, MQTTClientOptions } from './options/client-options.js'

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
    super(options, browserRuntime)
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

export { fileStore } from './store/file-store-browser.js'
export * from './exports.js'
