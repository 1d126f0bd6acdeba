import type { LinkFailure } from '../link/link.js'
import type { AuthPacket, Properties } from '../wire/packets.js'
import type { AuthExchange, AuthMethod } from './auth-method.js'

/** What the flow asks of its link. */
export interface AuthFlowHost {
  /** Writes an AUTH packet on the connection. */
  send(packet: AuthPacket): void
  /** The exchange failed on the client's side (the method rejected or threw, the broker's proof did not hold). */
  failed(message: string, reauth: boolean): void
}

/** The shortest wait before a re-authentication, so that a method that asks for one at once cannot loop. */
const MIN_RENEW_MS = 1_000
/** The longest: a timer fires after 1 ms beyond it (and `NaN` at once), which would re-authenticate in a loop. */
const MAX_RENEW_MS = 2 ** 31 - 1

/** The method's data as the AUTH or CONNECT can carry it; anything else fails the exchange, not the encoder. */
function checked(data: unknown): Uint8Array | undefined {
  if (data === undefined || (data instanceof Uint8Array && data.length <= 0xffff)) return data
  throw new Error(`the method's data must be a Uint8Array of at most 65535 bytes, not ${data instanceof Uint8Array ? data.length : typeof data}`)
}

/**
 * The client's side of MQTT 5 enhanced authentication (4.12) on one link: an exchange per connection attempt
 * and per re-authentication, one at a time. The link hands it the broker's AUTH packets and its CONNACK's
 * data; everything the method does asynchronously is dropped when the connection it was for has closed.
 */
export class AuthFlow {
  readonly #method: AuthMethod
  readonly #host: AuthFlowHost
  #exchange: AuthExchange | undefined
  /** Counts connections: an answer of the method for a closed one is not sent. */
  #generation = 0
  /** An exchange awaits the broker's answer; `reauth`: on a live connection. */
  #pending: 'connect' | 'reauth' | undefined
  #renewal: ReturnType<typeof setTimeout> | undefined

  constructor(method: AuthMethod, host: AuthFlowHost) {
    this.#method = method
    this.#host = host
  }

  /** A re-authentication awaits the broker: a DISCONNECT now is its refusal. */
  get reauthenticating(): boolean {
    return this.#pending === 'reauth'
  }

  /** The failure to report for the broker's refusal of the re-authentication under way (its DISCONNECT; Mosquitto 2.0's CONNACK). */
  refused(packet: string, code: number, reason: string | undefined): LinkFailure {
    return { type: 'auth', reauth: true, message: `the broker refused the re-authentication (${packet} with reason code ${code}${reason ? `: ${reason}` : ''})` }
  }

  /** Starts the exchange of a new attempt: resolves with the CONNECT's properties, or undefined when it failed or the attempt ended. */
  async connect(): Promise<Properties | undefined> {
    this.stop()
    const data = await this.#start('connect')
    return data && { authenticationMethod: this.#method.method, authenticationData: data[0] }
  }

  /** The broker's AUTH. Returns an error message for a packet that breaks the protocol. */
  received(packet: AuthPacket, accepted: boolean): string | undefined {
    const code = packet.reasonCode
    if (packet.properties?.authenticationMethod !== this.#method.method) return 'AUTH with another authentication method'
    if (code === 0x19) {
      // MQTT 5 leaves re-authentication to the client (3.15.2.1): a broker that asks for one anyway gets one.
      if (!accepted) return 'AUTH re-authenticate before CONNACK'
      this.#reauthenticate()
      return undefined
    }
    if (!this.#pending || (code === 0 && !accepted)) return `AUTH ${code === 0 ? 'success' : 'continue'} outside an exchange`
    if (code === 0) {
      const unproven = this.succeeded(packet.properties.authenticationData)
      if (unproven !== undefined) this.#host.failed(unproven, true)
      return undefined
    }
    const exchange = this.#exchange!
    const generation = this.#generation
    const reauth = this.#pending === 'reauth'
    const answer = async () => {
      if (!exchange.next) throw new Error(`${this.#method.method} takes no further step, but the broker asked for one`)
      return checked(await exchange.next(packet.properties?.authenticationData))
    }
    answer().then(
      (data) => generation === this.#generation && this.#host.send(this.#packet(0x18, data)),
      (error: unknown) => generation === this.#generation && this.#host.failed(describe(error), reauth),
    )
    return undefined
  }

  /**
   * The exchange succeeded (CONNACK 0, AUTH 0x00): the method checks the broker's last data, and the next
   * re-authentication is scheduled. Returns a message when the check failed (the connection must not be used).
   */
  succeeded(final: Uint8Array | undefined): string | undefined {
    const exchange = this.#exchange
    this.#pending = undefined
    try {
      exchange?.done?.(final)
    } catch (error) {
      return describe(error)
    }
    const renewIn = exchange?.renewIn
    clearTimeout(this.#renewal)
    if (typeof renewIn === 'number' && renewIn <= MAX_RENEW_MS) this.#renewal = setTimeout(() => this.#reauthenticate(), Math.max(MIN_RENEW_MS, renewIn))
    return undefined
  }

  /** The connection closed: nothing pending is sent, no renewal comes. */
  stop(): void {
    this.#generation += 1
    this.#pending = this.#exchange = undefined
    clearTimeout(this.#renewal)
  }

  #reauthenticate(): void {
    if (this.#pending) return
    const generation = this.#generation
    void this.#start('reauth').then((data) => data && generation === this.#generation && this.#host.send(this.#packet(0x19, data[0])))
  }

  /** Starts an exchange: its first data (in a tuple, as it may be undefined), or undefined when it failed or is stale. */
  async #start(kind: 'connect' | 'reauth'): Promise<[Uint8Array | undefined] | undefined> {
    const generation = this.#generation
    this.#pending = kind
    try {
      const exchange = await this.#method.start(kind === 'connect' ? 'connect' : 'reauthenticate')
      if (generation !== this.#generation) return undefined
      this.#exchange = exchange
      return [checked(exchange.data)]
    } catch (error) {
      if (generation === this.#generation) this.#host.failed(describe(error), kind === 'reauth')
      return undefined
    }
  }

  #packet(reasonCode: number, data: Uint8Array | undefined): AuthPacket {
    return { type: 'auth', reasonCode, properties: { authenticationMethod: this.#method.method, authenticationData: data } }
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
