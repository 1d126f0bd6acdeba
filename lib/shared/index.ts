/**
 * iotpubsub/shared: the browser entry's API, with one broker connection shared by the tabs of an origin.
 * Every tab whose client has the same URL(s), client id and credentials uses one connection, held by one of the
 * tabs (elected with a Web Lock) and handed to another when that tab goes away; each tab still has the whole API.
 * It exports everything `iotpubsub` does, with the same options, so switching is changing the import path only.
 * A subpath of its own because it is code (the hub, the tab client, the messages between tabs) that an app
 * which does not share should not ship. In Node the package's `exports` lead here to the Node entry: a Node
 * process has one client per `connect()`, and sharing means nothing there.
 */
import type { MQTTClient as ClientApi } from '../client/api.js'
import { Client } from '../client/client.js'
import { browserRuntime } from '../browser-runtime.js'
import type { ClientOptions, MQTTClientOptions } from '../options/client-options.js'
import { sharedConnection } from './share-connection.js'

/**
 * A client whose broker connection is shared by the tabs of this origin with the same URL(s), client id and
 * credentials. It starts connecting (or joining the tabs' connection) at once; see {@link connect} for the
 * short form. Without Web Locks (secure contexts only: `https:` or `http://localhost`) or BroadcastChannel,
 * the tab has a connection of its own, and the logger gets an `info` line (`event: 'shared'`).
 *
 * @example
 * ```ts
 * import { MQTTClient } from 'iotpubsub/shared'
 *
 * const client = new MQTTClient({ clientId: 'dash', brokerIp: '192.168.1.103', brokerPort: 9001, username, password })
 * client.observe('sensors/#', { codec: 'json' }).subscribe((m) => console.log(m.topic, m.payload))
 * ```
 */
export interface MQTTClient extends ClientApi {}

/** Creates a client of the tabs' shared connection (options are checked at once: `UnsupportedOptionError`). */
export const MQTTClient: new (options: MQTTClientOptions) => MQTTClient = class MQTTClient extends Client {
  constructor(options: MQTTClientOptions) {
    // A client of the tabs' shared connection stands in for this one (same API); without the browser APIs it
    // needs, this tab has a connection of its own.
    const shared = sharedConnection(options, browserRuntime)
    if (shared) return shared as Client
    super(options, browserRuntime)
  }
}

/**
 * Connects to a broker through the connection the tabs of this origin share, and returns the client. Throws
 * `UnsupportedOptionError` for a URL a browser cannot open (`ws://` and `wss://` only) or an option that
 * makes no sense, as `connect` from `iotpubsub` does.
 *
 * @example
 * ```ts
 * import { connect } from 'iotpubsub/shared'
 *
 * // Ten open tabs, one connection at the broker: give the tabs the same client id.
 * const client = connect('ws://localhost:9001', { clientId: 'dash', username, password })
 * client.observe<{ celsius: number }>('rooms/+/temp', { codec: 'json' }).subscribe((m) => render(m.payload))
 * ```
 */
export function connect(url: string | readonly string[], options: ClientOptions = {}): MQTTClient {
  return new MQTTClient({ ...options, url })
}

export * from '../exports.js'
