import { UnsupportedOptionError } from '../errors.js'
import { reasonText } from '../reason-codes.js'
import { concatBytes } from '../transport/concat-bytes.js'
import { connectProperties } from './connect-properties.js'
import { Fifo } from './fifo.js'
import { InFlightAwareIds } from './in-flight-aware-ids.js'
import { LivenessProbes } from './liveness-probes.js'
import { signOfLifeTimers, threadIntervals } from './sign-of-life.js'

/**
 * What the MQTT.js link shares with the lean link, handed to it by the runtime that makes it rather than
 * imported. In a browser the MQTT.js link is a chunk loaded on demand, and esbuild gives every module such a
 * chunk shares with the entry a chunk of its own, fetched and gzipped apart from the entry: bytes more at
 * start for an app that never loads MQTT.js.
 *
 * @example
 * ```ts
 * const links = mqttJsLinks(linkKit)
 * ```
 */
export const linkKit = Object.freeze({ reasonText, concatBytes, connectProperties, Fifo, InFlightAwareIds, LivenessProbes, signOfLifeTimers, threadIntervals, UnsupportedOptionError })

export type LinkKit = typeof linkKit & {
  /**
   * The platform's streams where MQTT.js's own fall short (a proxy, subprotocols): Node's
   * lib/transport/mqttjs-streams.ts, a browser's lib/transport/browser-streams.ts.
   */
  readonly streamsOf?: (client: object) => void
}
