import { PublishError, PublishOutcomeUnknownError } from '../errors.js'
import type { Connack, LinkAckError, LinkFailure } from '../link/link.js'
import type { QoS } from '../message.js'
import { QOS_NOT_SUPPORTED } from '../reason-codes.js'
import type { ProtocolVersion } from '../status.js'
import type { PendingPublish } from './pending-publish.js'
import { blame, refusedWithSession } from './poison.js'
import type { PublishLimits } from './publish-outcomes.js'

/**
 * What the broker takes, as the client learns it: the protocol and maximum packet size of the connection, its
 * Maximum QoS (the CONNACK's, lowered for good by a publish the broker refused by closing the connection:
 * poison.ts, under 3.1.1 a broker cannot say its maximum), and the QoS 2 strikes that count such closes until
 * a PUBREC shows the broker takes QoS 2.
 *
 * @example
 * ```ts
 * const broker = new BrokerLimits()
 * broker.connack(connack, 4)
 * const verdict = broker.blame(failures, true, inFlight, epoch, Date.now())
 * ```
 */
export class BrokerLimits {
  protocol: ProtocolVersion = 5
  #maxQos: QoS = 2
  #maxPacketSize: number | undefined
  #retain = true
  /** Silent closes right after a QoS 2 PUBLISH under MQTT 3.1.1 since the broker last took a QoS 2. */
  #strikes = 0

  connack(connack: Connack, protocol: ProtocolVersion): void {
    this.protocol = protocol
    this.#maxPacketSize = connack.maximumPacketSize
    this.#retain = connack.properties?.retainAvailable !== false
    const maximumQoS = connack.maximumQoS
    if (maximumQoS === 0 || maximumQoS === 1) this.#lower(maximumQoS)
  }

  /** What a publish may be now, within `options`' own limits. */
  limits(options: { readonly maxQos: number; readonly maxPacketSize?: number | undefined }): PublishLimits {
    return { maxQos: Math.min(options.maxQos, this.#maxQos), maxPacketSize: Math.min(options.maxPacketSize ?? Infinity, this.#maxPacketSize ?? Infinity), protocol: this.protocol, retain: this.#retain }
  }

  /** An acknowledgement of `publish`: a QoS 2 the broker answered (PUBREC, PUBCOMP, a reason code) ends the strikes. */
  answered(publish: PendingPublish, error: LinkAckError | undefined): void {
    if (publish.qos === 2 && (!error || error.received === true || typeof error.code === 'number')) this.#strikes = 0
  }

  /**
   * Whether a publish explains a close (poison.ts): undefined when none does; `error` when the broker refused
   * it for good (the publish is to be rejected with it), none when it is only a strike against it.
   */
  blame(failures: readonly LinkFailure[], accepted: boolean, inFlight: ReadonlyMap<number, PendingPublish>, epoch: number, now: number): { publish: PendingPublish; error?: Error } | undefined {
    const verdict = blame(failures, accepted, this.protocol, inFlight, epoch, now, this.#strikes)
    if (!verdict) return undefined
    const { publish } = verdict
    if (verdict.strike) this.#strikes += 1
    if (!verdict.reject) return { publish }
    if (verdict.maxQos !== undefined) this.#lower(verdict.maxQos)
    return { publish, error: new PublishError(publish.topic, verdict.reason, verdict.reasonCode === undefined ? {} : { reasonCode: verdict.reasonCode }) }
  }

  /**
   * The error of a QoS 2 publish the broker had not completed when a reconnect found its session gone: its
   * outcome unknown. Unless it was the second QoS 2 in a row the broker closed the connection on right after
   * it was sent (a strike): under 3.1.1 that is how a broker refuses a QoS above its maximum, so it is
   * refused, and QoS 2 with it.
   */
  lost(publish: PendingPublish, received: boolean): Error {
    if (!refusedWithSession(publish, received, this.#strikes)) return new PublishOutcomeUnknownError(publish.topic)
    this.#lower(1)
    return new PublishError(publish.topic, 'the broker closed the connection on this QoS 2 publish as on the one before: it supports QoS 1 at most', { reasonCode: QOS_NOT_SUPPORTED })
  }

  #lower(qos: QoS): void {
    this.#maxQos = Math.min(this.#maxQos, qos) as QoS
  }
}
