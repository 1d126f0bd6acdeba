import { reasonText } from '../../reason-codes.js'
import { HIGH_WATER_MARK, type OpenTransport, type Transport } from '../../transport/transport.js'
import { encodeClientPacket as encode } from '../../wire/encode-client-packets.js'
import { MalformedPacketError, PACKET_TOO_LARGE, PROTOCOL_ERROR } from '../../wire/malformed-packet.js'
import { ClientPacketReader as PacketReader } from '../../wire/client-packet-reader.js'
import type { ConnackPacket, Packet, Properties, ProtocolLevel, SubackPacket } from '../../wire/packets.js'
import type { AuthFlow } from '../../auth/auth-flow.js'
import type { LivenessProbe } from '../../connection/liveness.js'
import { connectPacket } from './connect-packet.js'
import { InFlightAwareIds } from '../in-flight-aware-ids.js'
import { InboundFlow } from './inbound-flow.js'
import { IncomingAcks } from './incoming-acks.js'
import { Keepalive } from './keepalive.js'
import { LivenessProbes } from '../liveness-probes.js'
import { PublishFlow } from './publish-flow.js'
import { threadIntervals, type Intervals } from '../sign-of-life.js'
import { SubscribeRequests, subackResult, subscribePacket } from './subscribe-requests.js'
import type { Attempt, Link, LinkAckError, LinkEvents, LinkFailure, LinkPublishOptions, LinkSession, LinkSettings, LinkSubscribeOptions, LinkSubscription, Suback } from '../link.js'

/** MQTT's largest packet: a 268,435,455-byte remaining length behind a 5-byte fixed header. */
const ANY_SIZE = 268_435_460
/** How long the broker gets to close after the client's DISCONNECT for its mistake, before the socket is destroyed. */
const LINGER_MS = 1_000

/** The link's epoch between attempts: the connection's epochs start at 1. */
const NO_ATTEMPT = 0

/**
 * The lean link: MQTT 5 and 3.1.1 spoken by the SDK itself, on `Uint8Array`s (`wire/`), over one transport per
 * attempt (`transport/`). No Node polyfills, nothing per byte: the browser entry's default. It keeps the
 * session's client side (unacknowledged publishes, incoming QoS 2 identifiers) across connections, resends it
 * on each new one, honours the broker's receive maximum and holds the broker to its own, and delivers one
 * message at a time while it goes on reading the acknowledgements and pings behind it. Nothing it does in a
 * socket event or a timer throws out of it: a failure there is reported and ends the attempt.
 */
export class LeanLink implements Link, LivenessProbe {
  #transport: Transport | undefined
  #reader: PacketReader | undefined
  #level: ProtocolLevel = 5
  /**
   * The attempt's epoch (the connection's, see {@link Attempt}), {@link NO_ATTEMPT} between attempts: events of
   * an earlier attempt's transport, and late `done` calls, carry another value and are ignored.
   */
  #attempt = NO_ATTEMPT
  #accepted = false
  #closeReported = true
  #connectTimer: ReturnType<typeof setTimeout> | undefined
  #linger: ReturnType<typeof setTimeout> | undefined
  private readonly flow: PublishFlow = new PublishFlow({
    write: (bytes) => this.write(bytes),
    level: () => this.#level,
    accepted: () => this.#accepted,
    allocate: (): number | null => this.#ids.allocate(),
  })
  readonly #incoming = new IncomingAcks()
  readonly #inbound = new InboundFlow(this.#incoming, {
    write: (bytes) => this.write(bytes),
    level: () => this.#level,
    message: (message, done) => this.#events.message(message, done),
    protocolError: (message, code) => this.#protocolError(message, code),
    pause: (paused) => {
      // The broker's pings and acks now wait unread in the socket: the keepalive must not count that silence.
      this.#keepalive.suspend(paused)
      if (paused) this.#transport?.pause()
      else this.#transport?.resume()
    },
    crashed: (error) => this.#crashed(this.#attempt, error),
    resume: () => this.#read(),
  })
  private readonly requests = new SubscribeRequests()
  readonly #ids: InFlightAwareIds = new InFlightAwareIds((id: number): boolean => this.flow.store.has(id) || this.requests.has(id))
  readonly #keepalive: Keepalive
  /** MQTT 5 enhanced authentication, when the settings ask for it: loaded with the first attempt, so that apps without it do not ship it. */
  #auth: AuthFlow | undefined
  readonly #probes = new LivenessProbes()
  #closing: (() => void) | undefined

  readonly #settings: LinkSettings
  readonly #events: LinkEvents
  readonly #openTransport: OpenTransport
  readonly #intervals: Intervals

  constructor(
    settings: LinkSettings,
    events: LinkEvents,
    openTransport: OpenTransport,
    intervals: Intervals,
  ) {
    this.#settings = settings
    this.#events = events
    this.#openTransport = openTransport
    this.#intervals = intervals
    this.#keepalive = new Keepalive(intervals, {
      ping: () => this.#guard(this.#attempt, () => this.write(encode({ type: 'pingreq' }, this.#level))),
      expired: () => this.#guard(this.#attempt, () => this.#abandon({ type: 'keepalive' })),
    })
  }

  open(attempt: Attempt): void {
    this.#attempt = attempt.epoch
    const current = this.#attempt
    this.#accepted = false
    this.#closeReported = false
    this.#inbound.restart(attempt.epoch)
    this.#level = attempt.protocolVersion
    const reader = new PacketReader({ maximumPacketSize: this.#settings.maxIncomingPacketSize ?? ANY_SIZE })
    reader.level = attempt.protocolVersion
    this.#reader = reader
    this.#connectTimer = setTimeout(() => {
      if (current === this.#attempt && !this.#accepted) this.#guard(current, () => this.#abandon({ type: 'connect-timeout' }))
    }, this.#settings.connectTimeout)
    this.#transport = this.#openTransport(attempt.endpoint, this.#settings.tls, {
      open: () => {
        // Settings the options' validation should have refused fail the attempt, not the process.
        const connect = (auth?: Properties) => {
          if (current === this.#attempt) this.#guard(current, () => this.write(encode(connectPacket(this.#settings, attempt, auth), attempt.protocolVersion)), 'the CONNECT could not be sent')
        }
        const method = this.#settings.auth
        if (!method) return connect()
        // The method's first data may take a while (a token fetched); undefined: it failed, and said so.
        import('../../auth/auth-flow.js')
          .then(({ AuthFlow }) =>
            (this.#auth ??= new AuthFlow(method, {
              send: (packet) => this.#guard(this.#attempt, () => this.write(encode(packet, 5))),
              failed: (message, reauth) => this.#guard(this.#attempt, () => this.#abandon({ type: 'auth', message, reauth })),
            })).connect(),
          )
          .then((auth) => auth && connect(auth), (error: unknown) => this.#crashed(current, error))
      },
      data: (chunk) => {
        if (current !== this.#attempt || this.#reader !== reader) return
        this.#guard(current, () => {
          this.#keepalive.heard()
          this.#probes.answerAll(true)
          reader.push(chunk)
          this.#read()
        })
      },
      drain: () => {
        if (current === this.#attempt) this.#events.drained()
      },
      failed: (failure) => {
        if (current === this.#attempt) this.#events.failed(failure)
      },
      closed: () => {
        if (current !== this.#attempt) return
        try {
          this.#onClosed()
        } catch {
          // The engine's own failure while it took the close: the socket is closed, nothing is left to end.
        }
      },
    }, this.#intervals)
  }

  /** Publishes wait in the publisher while the transport holds more than its high-water mark unsent. */
  get writable(): boolean {
    const transport = this.#transport
    return transport === undefined || transport.buffered < HIGH_WATER_MARK
  }

  publish(topic: string, payload: Uint8Array | string, options: LinkPublishOptions, done: (error?: LinkAckError) => void): number | undefined {
    return this.flow.publish(topic, payload, options, done)
  }

  withdraw(packetId: number): void {
    this.flow.withdraw(packetId)
  }

  resume(session: LinkSession): void {
    this.flow.resume(session.outgoing, session.record)
    this.#incoming.resume(session.incoming, session.record)
  }

  subscribe(filter: string, options: LinkSubscribeOptions, done: (result: Suback) => void): void {
    this.subscribeMany([{ filter, options }], (results) => done(results[0] ?? { lost: true }))
  }

  subscribeMany(subscriptions: readonly LinkSubscription[], done: (results: readonly Suback[]) => void): void {
    this.#request((packetId) => subscribePacket(subscriptions, packetId, this.#level), (ack) => done(subscriptions.map((_, i) => subackResult(ack, i))))
  }

  unsubscribe(filter: string, done: (ok: boolean) => void): void {
    this.unsubscribeMany([filter], done)
  }

  unsubscribeMany(filters: readonly string[], done: (ok: boolean) => void): void {
    this.#request((packetId) => ({ type: 'unsubscribe', packetId, filters }), (ack) => done(ack !== undefined))
  }

  drop(): void {
    this.#transport?.destroy()
  }

  probe(timeout: number, answer: (alive: boolean) => void): void {
    if (!this.#accepted) return answer(false)
    this.#probes.add(timeout, answer)
    this.write(encode({ type: 'pingreq' }, this.#level))
  }

  close({ force, timeout }: { force: boolean; timeout: number }): Promise<void> {
    // What is unacknowledged is given up: the final close ends the session's client side.
    this.flow.store.clear()
    const transport = this.#transport
    if (!transport || this.#closeReported) {
      this.#keepalive.stop()
      this.#intervals.dispose()
      return Promise.resolve()
    }
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => transport.destroy(), Math.max(0, timeout))
      this.#closing = () => {
        clearTimeout(timer)
        this.#intervals.dispose()
        resolve()
      }
      if (!force && this.#accepted && timeout > 0) {
        this.write(encode({ type: 'disconnect', reasonCode: 0 }, this.#level))
        transport.end()
      } else {
        transport.destroy()
      }
    })
  }

  /**
   * Reads every whole packet: acknowledgements and pings are handled at once, PUBLISHes delivered or held;
   * none while the engine takes a turn of the event loop (the inbound flow resumes reading after it).
   */
  #read(): void {
    const reader = this.#reader
    if (!reader) return
    const inbound = this.#inbound
    try {
      for (let packet = inbound.reading ? reader.next() : undefined; packet; packet = this.#reader === reader && inbound.reading ? reader.next() : undefined) {
        // Each packet read proves the broker alive, even when its PINGRESP is still behind a backlog.
        this.#keepalive.heard()
        this.handle(packet)
      }
    } catch (error) {
      if (this.#reader !== reader) return
      if (!(error instanceof MalformedPacketError)) throw error
      // MQTT closes the connection on a malformed packet: the parser cannot find the next one.
      const message = error.reasonCode === PACKET_TOO_LARGE ? `${error.message} (the client's maxIncomingPacketSize)` : error.message
      this.#abandon({ type: 'malformed', message, ack: undefined }, error.reasonCode)
    }
  }

  private handle(packet: Packet): void {
    if (!this.#accepted && packet.type !== 'connack' && packet.type !== 'disconnect' && packet.type !== 'auth') {
      return this.#protocolError(`${packet.type.toUpperCase()} before CONNACK`)
    }
    switch (packet.type) {
      case 'publish':
        return this.#inbound.publish(packet)
      case 'puback':
      case 'pubcomp':
        return this.flow.acknowledged(packet)
      case 'pubrec':
        return this.flow.received(packet)
      case 'pubrel':
        return this.write(this.#incoming.release(packet.packetId, this.#level))
      case 'suback':
      case 'unsuback':
        // In its place among the messages read before it; a lost connection answers every request itself.
        return this.#inbound.after((lost) => {
          if (!lost) this.requests.answer(packet.packetId, packet.type === 'suback' ? packet : { type: 'suback', packetId: packet.packetId, reasonCodes: [] })
        })
      case 'pingresp':
        return
      case 'connack':
        return this.#onConnack(packet)
      case 'disconnect': {
        const { reasonCode: code, properties } = packet
        if (this.#auth?.reauthenticating) return this.#abandon(this.#auth.refused('DISCONNECT', code, properties?.reasonString))
        return this.#abandon({ type: 'disconnect', code, reason: properties?.reasonString })
      }
      case 'auth': {
        // Without enhanced authentication asked for, the broker may not start one.
        const error = this.#auth ? this.#auth.received(packet, this.#accepted) : 'AUTH without an authentication method'
        return error === undefined ? undefined : this.#protocolError(error)
      }
      default:
        return this.#protocolError(`a ${packet.type.toUpperCase()} from the broker`)
    }
  }

  #onConnack(connack: ConnackPacket): void {
    // Mosquitto 2.0 refuses a re-authentication with a CONNACK, where MQTT 5 has a DISCONNECT.
    if (this.#accepted && this.#auth?.reauthenticating && connack.reasonCode >= 0x80) return this.#abandon(this.#auth.refused('CONNACK', connack.reasonCode, connack.properties?.reasonString))
    if (this.#accepted) return this.#protocolError('a second CONNACK')
    clearTimeout(this.#connectTimer)
    if (connack.reasonCode !== 0) {
      const code = connack.reasonCode
      this.#events.failed({ type: 'refused', code, message: `Connection refused: ${reasonText(code)}` })
      this.#transport?.destroy()
      return
    }
    // MQTT 5 §3.2.2.1.1: a session where the client asked for none (Clean Start) is a broker's error, closed on.
    if (connack.sessionPresent && this.#settings.clean && this.#level === 5) return this.#protocolError('Session Present answering a Clean Start')
    const properties = connack.properties
    const unproven = this.#auth?.succeeded(properties?.authenticationData)
    if (unproven !== undefined) return this.#abandon({ type: 'auth', message: unproven, reauth: false })
    this.#accepted = true
    if (!connack.sessionPresent) this.#incoming.forget()
    // MQTT 5: the server's keepalive is binding.
    this.#keepalive.start(properties?.serverKeepAlive ?? this.#settings.keepalive)
    // Before the engine hears of the connection: a QoS 2 publish the lost session took is answered first.
    this.flow.restart(this.#attempt, properties?.receiveMaximum ?? 65_535, connack.sessionPresent)
    this.#events.connected({
      sessionPresent: connack.sessionPresent,
      maximumQoS: properties?.maximumQoS,
      maximumPacketSize: properties?.maximumPacketSize,
      receiveMaximum: properties?.receiveMaximum ?? 65_535,
      subscriptionIdentifiersAvailable: properties?.subscriptionIdentifiersAvailable !== false,
      properties: properties as Readonly<Record<string, unknown>> | undefined,
    })
  }

  #request(packet: (packetId: number) => Packet, answer: (ack: SubackPacket | undefined) => void): void {
    const packetId = this.#accepted ? this.#ids.allocate() : null
    if (packetId === null) {
      // Not connected: answered as lost, later, as an acknowledgement would be.
      queueMicrotask(() => answer(undefined))
      return
    }
    this.requests.add(packetId, answer)
    this.write(encode(packet(packetId), this.#level))
  }

  private write(bytes: Uint8Array): void {
    this.#transport?.write(bytes)
    this.#keepalive.wrote()
  }

  /** The broker broke the protocol: `code` is the MQTT 5 reason code the client's DISCONNECT gives. */
  #protocolError(message: string, code = PROTOCOL_ERROR): void {
    this.#abandon({ type: 'malformed', message: `protocol error: ${message}`, ack: undefined }, code)
  }

  /**
   * Ends the attempt on a failure, once: reports it, reads nothing more, and closes the socket. With a reason
   * code under MQTT 5, a DISCONNECT tells the broker why before the close (3.1.1 has no way to).
   */
  #abandon(failure: LinkFailure, code?: number): void {
    const transport = this.#transport
    if (!this.#reader) return
    this.#reader = undefined
    this.#accepted = false
    this.#inbound.stop()
    clearTimeout(this.#connectTimer)
    this.#keepalive.stop()
    this.#auth?.stop()
    this.#events.failed(failure)
    if (!transport) return
    if (code === undefined || this.#level !== 5) return transport.destroy()
    transport.write(encode({ type: 'disconnect', reasonCode: code }, 5))
    // A paused socket would never see the broker's close.
    transport.resume()
    transport.end()
    this.#linger = setTimeout(() => transport.destroy(), LINGER_MS)
  }

  /** Runs a socket event's or a timer's work: what it throws fails the attempt, never the process. */
  #guard(attempt: number, task: () => void, what?: string): void {
    try {
      task()
    } catch (error) {
      this.#crashed(attempt, error, what)
    }
  }

  /** The link's own code, or the engine's, threw in a socket event or a timer: a failed attempt, never a crash. */
  #crashed(attempt: number, error: unknown, what = 'the lean link failed'): void {
    if (attempt !== this.#attempt) return
    try {
      this.#abandon({ type: 'protocol', message: `${what}: ${error instanceof Error ? error.message : String(error)}` })
    } catch {
      // Reporting threw too: the close still ends the attempt.
    }
    this.#transport?.destroy()
  }

  #onClosed(): void {
    if (this.#closeReported) return
    this.#closeReported = true
    clearTimeout(this.#connectTimer)
    clearTimeout(this.#linger)
    this.#keepalive.stop()
    this.#auth?.stop()
    this.#inbound.stop()
    this.#accepted = false
    this.#reader = undefined
    this.#transport = undefined
    this.#probes.answerAll(false)
    // Requests are not resent: the engine subscribes again on the next connection.
    this.requests.loseAll()
    // No attempt now: a `done` of a message handled on this connection writes nothing.
    this.#attempt = NO_ATTEMPT
    this.#events.closed()
    const closing = this.#closing
    this.#closing = undefined
    closing?.()
  }
}

/**
 * Makes lean links over `transports`. `intervals` makes each link's keepalive timers (the thread's own by
 * default; a browser's entry gives Worker timers), ended with the link's final close.
 *
 * @example
 * ```ts
 * const runtime = { ...rest, links: leanLinks(openNodeTransport) }
 * ```
 */
export function leanLinks(transports: OpenTransport, intervals: () => Intervals = () => threadIntervals) {
  return (settings: LinkSettings, events: LinkEvents): Link => new LeanLink(settings, events, transports, intervals())
}
