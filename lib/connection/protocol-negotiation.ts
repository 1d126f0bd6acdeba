import type { ProtocolVersion } from '../status.js'

/**
 * Which MQTT version the next attempt uses. `'auto'` starts at 5 and moves to 3.1.1 when the broker says it
 * does not speak 5 (CONNACK code 1 or 132, which is final), or closes MQTT 5 CONNECTs without answering
 * (RabbitMQ 3.10), which is only believed until 3.1.1 fares no better: a broker that is down behind a proxy
 * closes every CONNECT, whatever its version.
 *
 * @example
 * ```ts
 * const negotiation = new ProtocolNegotiation('auto')
 * negotiation.fallBack('silent') // negotiation.version === 4
 * ```
 */
export class ProtocolNegotiation {
  #current: ProtocolVersion
  #silentFallback = false
  /** Some broker accepted an MQTT 5 CONNECT: from then on only an explicit refusal moves to 3.1.1. */
  spoke5 = false

  readonly #wanted: 4 | 5 | 'auto'

  constructor(wanted: 4 | 5 | 'auto') {
    this.#wanted = wanted
    this.#current = wanted === 4 ? 4 : 5
  }

  get version(): ProtocolVersion {
    return this.#current
  }

  get auto(): boolean {
    return this.#wanted === 'auto'
  }

  fallBack(why: 'refused' | 'silent'): void {
    this.#current = 4
    this.#silentFallback = why === 'silent'
  }

  accepted(): void {
    if (this.#current === 5) this.spoke5 = true
    this.#silentFallback = false
  }

  /**
   * An attempt closed before its CONNACK: a 3.1.1 tried only because 5 met silence goes back to 5. Returns
   * whether it did (the count of silent closes starts over).
   */
  closedUnanswered(): boolean {
    if (this.#current !== 4 || !this.#silentFallback) return false
    this.#current = 5
    this.#silentFallback = false
    return true
  }
}
