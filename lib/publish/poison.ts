import type { LinkFailure } from '../link/link.js'
import type { QoS } from '../message.js'
import { QOS_NOT_SUPPORTED, reasonText } from '../reason-codes.js'
import type { ProtocolVersion } from '../status.js'
import type { PendingPublish } from './pending-publish.js'

/** A close this soon after the oldest unacknowledged publish went out is taken as the broker's answer to it. */
export const POISON_WINDOW_MS = 2_000
/** Consecutive silent closes on QoS 2 publishes (no PUBREC between) that prove the broker refuses QoS 2. */
export const POISON_STRIKES = 2
/** DISCONNECT reason codes (MQTT 5) by which a broker refuses the publish that preceded them. */
const PUBLISH_REFUSALS: ReadonlySet<number> = new Set([144, 149, 151, 153, 154, QOS_NOT_SUPPORTED])

/** Who is to blame for a close, and whether it is final. */
export interface Blame {
  readonly publish: PendingPublish
  readonly reject: boolean
  /** A silent close right after a QoS 2 PUBLISH under MQTT 3.1.1: one more of the client's strikes. */
  readonly strike: boolean
  readonly reason: string
  readonly reasonCode: number | undefined
  /** The broker's maximum QoS, learnt from the refusal. */
  readonly maxQos: QoS | undefined
}

/**
 * Whether the publish that was oldest in flight explains a close. A broker that cannot take a publish often
 * says so only by closing the connection (Mosquitto on a QoS above `max_qos` under 3.1.1, NATS on any QoS 2),
 * or with an acknowledgement MQTT.js cannot parse (Mosquitto's PUBACK 149); MQTT.js resends the publish
 * first on every new connection, and everything else waits behind it. A malformed acknowledgement or a
 * refusing DISCONNECT names the publish at once. Under MQTT 3.1.1 a silent close right after a QoS 2 PUBLISH
 * is a strike for the client, not a verdict: a network cut looks the same, and must not turn QoS 2 off. The
 * second consecutive one (`strikes`: the client's so far, reset by any PUBREC) proves the broker refuses QoS 2:
 * rejected here when it is this publish's own resend (a kept session), else when the reconnect finds the
 * session lost ({@link refusedWithSession}).
 *
 * @example
 * ```ts
 * blame([{ type: 'disconnect', code: 149, reason: undefined }], true, 5, inFlight, epoch, Date.now(), 0)
 * // { publish, reject: true, reasonCode: 149, ... }
 * ```
 */
export function blame(
  failures: readonly LinkFailure[],
  accepted: boolean,
  protocol: ProtocolVersion,
  inFlight: ReadonlyMap<number, PendingPublish>,
  epoch: number,
  now: number,
  strikes: number,
): Blame | undefined {
  if (!accepted) return undefined
  for (const failure of failures) {
    if (failure.type === 'malformed' && failure.ack) {
      // Acknowledgements come in order: the unparseable one is for the oldest publish of its QoS.
      const qos = failure.ack.cmd === 'puback' ? 1 : 2
      const publish = (failure.ack.packetId !== undefined ? inFlight.get(failure.ack.packetId) : undefined) ?? oldest(inFlight, (p) => p.qos === qos)
      if (!publish) return undefined
      const code = failure.ack.reasonCode
      return { publish, reject: true, reason: `the broker refused the publish${code === undefined ? '' : ` (reason code ${code}: ${reasonText(code)})`} with an acknowledgement MQTT 5 does not allow there`, reasonCode: code, maxQos: undefined, strike: false }
    }
    if (failure.type === 'disconnect' && PUBLISH_REFUSALS.has(failure.code)) {
      const publish = oldest(inFlight, (p) => p.epoch === epoch)
      if (!publish) return undefined
      const maxQos = failure.code === QOS_NOT_SUPPORTED ? ((publish.qos - 1) as QoS) : undefined
      return { publish, reject: true, reason: `the broker disconnected on this publish (reason code ${failure.code}: ${reasonText(failure.code)})`, reasonCode: failure.code, maxQos, strike: false }
    }
    // A reason of another kind (keepalive, takeover, TLS, ...) or an explicit refusal: not the publish's doing.
    if (failure.type !== 'socket' || !/^(ECONNRESET|EPIPE)$/.test(failure.code ?? '')) return undefined
  }
  // A silent close is evidence only against a QoS 2 publish on an MQTT 3.1.1 connection, the one case where
  // brokers cannot say "QoS not supported" otherwise; a close during a QoS 1 stream is as likely the broker's
  // own trouble (a RabbitMQ node closes its connections when a cluster peer dies).
  const publish = oldest(inFlight, (p) => p.epoch === epoch)
  if (!publish || protocol !== 4 || publish.qos !== 2 || now - publish.sentAt > POISON_WINDOW_MS) return undefined
  if (strikes + 1 < POISON_STRIKES || publish.strikes === 0) return { publish, reject: false, strike: true, reason: '', reasonCode: undefined, maxQos: undefined }
  return { publish, reject: true, strike: true, reason: 'the broker closed the connection on each attempt to send this QoS 2 publish: it supports QoS 1 at most', reasonCode: QOS_NOT_SUPPORTED, maxQos: 1 }
}

/**
 * Whether a QoS 2 publish that a reconnect found without its session (the link answers it `outcomeUnknown`)
 * was refused by the broker: it had a strike, the broker never sent PUBREC for it, and the strike was the
 * client's second in a row. Otherwise its outcome is unknown (a first strike is as likely a network cut).
 *
 * @example
 * ```ts
 * if (refusedWithSession(publish, error.received === true, strikes)) lowerMaxQosTo1()
 * ```
 */
export function refusedWithSession(publish: PendingPublish, received: boolean, strikes: number): boolean {
  return !received && publish.strikes > 0 && strikes >= POISON_STRIKES
}

function oldest(inFlight: ReadonlyMap<number, PendingPublish>, test: (publish: PendingPublish) => boolean): PendingPublish | undefined {
  for (const publish of inFlight.values()) if (publish.state !== 'settled' && test(publish)) return publish
  return undefined
}
