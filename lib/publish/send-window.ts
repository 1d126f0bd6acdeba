import type { QoS } from '../message.js'
import type { ProtocolVersion } from '../status.js'

/**
 * QoS 2 publishes in flight at most under MQTT 3.1.1, which has no Receive Maximum: Mosquitto answers PUBREC
 * and PUBCOMP for every QoS 2 publish past its `max_inflight_messages` (20 by default) but discards the
 * message, so a client with more in flight would have publishes resolve that are never delivered.
 */
export const QOS2_IN_FLIGHT_311 = 20

/** What the window counts of a publish. */
export interface WindowEntry {
  readonly qos: QoS
  /** Handed to the link and not settled: it takes one place of the window. */
  inWindow: boolean
}

/** The broker's window for QoS 1/2 publishes (see {@link sendWindow}). */
export interface SendWindow {
  connected(receiveMaximum: number, protocol: ProtocolVersion): void
  /** Whether a publish of `qos` has room now. */
  fits(qos: QoS): boolean
  take(entry: WindowEntry): void
  /** Gives `entry`'s place back; whether it had one. */
  free(entry: WindowEntry): boolean
}

/**
 * The broker's window for QoS 1/2 publishes: no more handed to the link unacknowledged than the CONNACK's
 * Receive Maximum, and no more QoS 2 in flight than `QOS2_IN_FLIGHT_311` under MQTT 3.1.1. Closures rather
 * than a class: every app ships it, and local variables minify where private fields do not.
 *
 * @example
 * ```ts
 * const window = sendWindow()
 * window.connected(connack.receiveMaximum, 5)
 * if (window.fits(publish.qos)) window.take(publish)
 * ```
 */
export function sendWindow(): SendWindow {
  let receiveMaximum = 65_535
  let used = 0
  let qos2Limit = 65_535
  let qos2Used = 0
  return {
    connected(maximum, protocol) {
      receiveMaximum = maximum
      qos2Limit = protocol === 4 ? QOS2_IN_FLIGHT_311 : 65_535
    },
    fits: (qos) => qos === 0 || (used < receiveMaximum && (qos === 1 || qos2Used < qos2Limit)),
    take(entry) {
      entry.inWindow = true
      used += 1
      if (entry.qos === 2) qos2Used += 1
    },
    free(entry) {
      if (!entry.inWindow) return false
      entry.inWindow = false
      used -= 1
      if (entry.qos === 2) qos2Used -= 1
      return true
    },
  }
}
