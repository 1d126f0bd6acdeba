import type { QoS } from '../../message.js'
import type { Packet, ProtocolLevel, SubackPacket } from '../../wire/packets.js'
import type { LinkSubscription, Suback } from '../link.js'

/**
 * The lean link's SUBSCRIBEs and UNSUBSCRIBEs waiting for their acknowledgement, by packet identifier. They are
 * not resent on a new connection (the engine subscribes again): a close answers every one as lost.
 *
 * @example
 * ```ts
 * requests.add(packetId, (ack) => done(ack !== undefined))
 * requests.answer(suback.packetId, suback)
 * ```
 */
export class SubscribeRequests {
  readonly #waiting = new Map<number, (ack: SubackPacket | undefined) => void>()

  get size(): number {
    return this.#waiting.size
  }

  has(packetId: number): boolean {
    return this.#waiting.has(packetId)
  }

  add(packetId: number, answer: (ack: SubackPacket | undefined) => void): void {
    this.#waiting.set(packetId, answer)
  }

  /** A SUBACK or UNSUBACK; one for no request waiting (a broker's mistake) is ignored. */
  answer(packetId: number, ack: SubackPacket): void {
    const answer = this.#waiting.get(packetId)
    if (!answer) return
    this.#waiting.delete(packetId)
    answer(ack)
  }

  /** The connection closed: every request is answered as lost. */
  loseAll(): void {
    const answers = [...this.#waiting.values()]
    this.#waiting.clear()
    for (const answer of answers) answer(undefined)
  }
}

/** The SUBSCRIBE for `subscriptions` (MQTT 5: the first one's subscription identifier stands for all). */
export function subscribePacket(subscriptions: readonly LinkSubscription[], packetId: number, level: ProtocolLevel): Packet {
  const id = subscriptions[0]?.options.id
  return {
    type: 'subscribe',
    packetId,
    subscriptions: subscriptions.map(({ filter, options }) => ({ filter, qos: options.qos, rap: options.rap ?? false, rh: options.rh ?? 0 })),
    properties: id !== undefined && level === 5 ? { subscriptionIdentifier: id } : undefined,
  }
}

/** Each filter's answer in a SUBACK: the granted QoS or the refusal code; none came (closed first): lost. */
export function subackResult(ack: SubackPacket | undefined, index: number): Suback {
  if (!ack) return { lost: true }
  const code = ack.reasonCodes[index]
  return code === 0 || code === 1 || code === 2 ? { granted: code as QoS } : { refused: code ?? 0x80 }
}
