import mqtt from 'mqtt'
import type { IClientOptions, IConnackPacket, IDisconnectPacket, IPublishPacket, MqttClient, Packet } from 'mqtt'
import { mqttJsFailure } from './mqttjs-failure.js'
import type { Intervals } from '../sign-of-life.js'
import type { LinkKit } from '../link-kit.js'
import type { LivenessProbe } from '../../connection/liveness.js'
import { TransportWatch } from '../transport-mistakes.js'
import { ResendGap } from './resend-gap.js'
import { noDelayOnStreamsOf } from './no-delay.js'
import { WriteBatch } from './write-batch.js'
import { WriteBackpressure, type DrainingStream } from './write-backpressure.js'
import { subackResults, subscribeOn, unsubscribeOn } from './mqttjs-requests.js'
import { publishOnMqttJs } from './publish-on-mqttjs.js'
import { attemptOptions, sessionOptions } from './mqttjs-options.js'
import { OutgoingSession } from './outgoing-session.js'
import { HeldMessages } from './held-messages.js'
import { IncomingQos2, PUBREC_LEFT_TO_LINK } from './incoming-qos2.js'
import { takeMessages } from './take-messages.js'
import { writeAck } from './write-ack.js'
import { endClient } from './end-client.js'
import { toConnack } from './connack.js'
import { acceptConnack } from './accept-connack.js'

// In the chunk a browser loads with this link, not in its entry: the browser runtime hands it back as the kit's `streamsOf`.
export { browserStreamsOf } from '../../transport/browser-streams.js'
import type { Attempt, Connack, Link, LinkAckError, LinkEvents, LinkPublishOptions, LinkSession, LinkSettings, LinkSubscribeOptions, LinkSubscription, Suback } from '../link.js'

/**
 * The link on MQTT.js 5: the only module that imports `mqtt` or knows its internals. One MqttClient for the
 * client's whole life, so that its stores (unacknowledged QoS 1/2 publishes, incoming QoS 2 state) carry over
 * from one connection to the next; MQTT.js never reconnects, resubscribes or queues on its own.
 */
export class MqttJsLink implements Link, LivenessProbe {
  private mqtt: MqttClient | undefined
  /** Whether the attempt under way has had its CONNACK; a refusal is reported from the packet itself. */
  #accepted = false
  #refusedCode: number | undefined
  #connack: Connack | undefined
  #openedAt = 0
  /** Reported once per attempt: MQTT.js can emit `close` more than once. */
  #closeReported = true
  #keepaliveExpired = false
  /** Counts messages received, so that a PINGRESP stuck behind a backlog is not taken for a dead broker. */
  #received = 0
  /** The latest chunk read from the socket: where a malformed acknowledgement's bytes can be looked up. */
  #lastChunk: Uint8Array | undefined
  /** The topic MQTT.js resolved for the PUBLISH it is about to hand over (a topic alias leaves the packet's empty). */
  #topic = ''
  /** Withdrawn publishes, and the lost session's rule applied to MQTT.js's store. */
  readonly #session = new OutgoingSession()
  /** Incoming QoS 2 delivered and PUBREC'd, until PUBREL; taken from MQTT.js on arrival (incoming-qos2.ts). */
  readonly #qos2 = new IncomingQos2()
  /** What a store kept of the session, until the MqttClient is made; then where QoS 2 changes are recorded. */
  #resumed: LinkSession | undefined
  readonly #transport = new TransportWatch((failure) => this.#events.failed(failure))
  /**
   * Node: the acknowledgements written while handling one turn's messages, and the publishes of one turn, leave together
   * (sockets have Nagle's algorithm off). Browsers have neither setImmediate nor a Nagle switch: their frames each write anyway.
   */
  readonly #writes = typeof setImmediate === 'function' ? new WriteBatch(setImmediate) : undefined
  readonly #backpressure = new WriteBackpressure(() => this.#events.drained())
  /** From the CONNACK until MQTT.js has resent its store: not writable, requests held. */
  readonly #gap = new ResendGap((error) => this.#crashed(error))
  /** Messages waiting for the engine, while MQTT.js reads on: acks and pings are never stuck behind a held message. */
  readonly #held: HeldMessages<IPublishPacket>
  /** Liveness probes waiting for the next packet from the broker. */
  readonly #probes: InstanceType<LinkKit['LivenessProbes']>

  readonly #settings: LinkSettings
  readonly #events: LinkEvents
  /** The keepalive's timers: a browser's run in a Worker, out of reach of hidden-tab throttling. */
  readonly #intervals: Intervals
  readonly #kit: LinkKit

  constructor(
    settings: LinkSettings,
    events: LinkEvents,
    intervals: Intervals,
    kit: LinkKit,
  ) {
    // The link a client without `link` gets (IOTPUBSUB_LINK=mqttjs): the options' own check cannot see it.
    if (settings.auth) throw new kit.UnsupportedOptionError("`auth` needs link 'lean': MQTT.js 5 has no public way to re-authenticate a live connection (AUTH 0x19)")
    this.#settings = settings
    this.#events = events
    this.#intervals = intervals
    this.#kit = kit
    this.#probes = new kit.LivenessProbes()
    this.#held = new HeldMessages<IPublishPacket>(
      {
        message: (message, done) => this.#events.message(message, done),
        acknowledge: (packet) => writeAck(this.mqtt, packet, this.#writes, this.#qos2),
        // Reading again is a sign of life (the broker's packets waited unread); the ping schedule itself goes on.
        resumed: () => (this.#received += 1),
        crashed: (error) => this.#crashed(error),
      },
      kit.Fifo,
    )
  }

  open(attempt: Attempt): void {
    this.#accepted = false
    this.#refusedCode = undefined
    this.#connack = undefined
    this.#keepaliveExpired = false
    this.#closeReported = false
    this.#openedAt = Date.now()
    this.#gap.lose()
    this.#held.restart(attempt.epoch)
    this.#transport.begin(attempt.endpoint, attempt.epoch)
    try {
      if (!this.mqtt) {
        this.mqtt = this.#create(attempt)
        this.mqtt.connect()
      } else {
        // MQTT.js reads the node, protocol and credentials from its options (its stream builder closes over them).
        Object.assign(this.mqtt.options, attemptOptions(attempt, this.#settings, this.#kit.connectProperties) satisfies IClientOptions)
        // The stores passed back in keep the unacknowledged publishes, which MQTT.js resends first.
        this.mqtt.reconnect({ incomingStore: this.mqtt.incomingStore, outgoingStore: this.mqtt.outgoingStore })
      }
    } catch (error) {
      // A stream that could not even be built (a browser's WebSocket constructor throws): a failed attempt.
      this.#events.failed({ type: 'protocol', message: error instanceof Error ? `${error.name}: ${error.message}` : String(error) })
      queueMicrotask(() => this.#onClose())
    }
  }

  publish(topic: string, payload: Uint8Array | string, options: LinkPublishOptions, done: (error?: LinkAckError) => void): number | undefined {
    return publishOnMqttJs(this.mqtt, this.#writes, topic, payload, options, done)
  }

  get writable(): boolean {
    return !this.#gap.open && this.#backpressure.writable(this.mqtt?.stream as unknown as DrainingStream | undefined)
  }

  withdraw(packetId: number): void {
    if (this.mqtt) this.#session.withdraw(this.mqtt, packetId)
  }

  /** Called before the first `open()`: the publishes go into MQTT.js's store as it is made. */
  resume(session: LinkSession): void {
    this.#resumed = session
    this.#qos2.resume(session.incoming, session.record)
  }

  subscribe(filter: string, options: LinkSubscribeOptions, done: (result: Suback) => void): void {
    this.subscribeMany([{ filter, options }], (results) => done(results[0] ?? { lost: true }))
  }

  subscribeMany(subscriptions: readonly LinkSubscription[], done: (results: readonly Suback[]) => void): void {
    this.#gap.after((lost) => (lost ? done(subackResults(subscriptions, undefined)) : subscribeOn(this.mqtt, this.#held, subscriptions, done)))
  }

  unsubscribe(filter: string, done: (ok: boolean) => void): void {
    this.unsubscribeMany([filter], done)
  }

  unsubscribeMany(filters: readonly string[], done: (ok: boolean) => void): void {
    this.#gap.after((lost) => (lost ? done(false) : unsubscribeOn(this.mqtt, this.#held, filters, done)))
  }

  drop(): void {
    this.mqtt?.stream?.destroy()
  }

  probe(timeout: number, answer: (alive: boolean) => void): void {
    const client = this.mqtt
    if (!client?.connected) return answer(false)
    this.#probes.add(timeout, answer)
    client.sendPing()
  }

  close(options: { force: boolean; timeout: number }): Promise<void> {
    return endClient(this.mqtt, options, () => this.#intervals.dispose())
  }

  #create(attempt: Attempt): MqttClient {
    const settings = this.#settings
    const options: IClientOptions = sessionOptions(settings)
    const kit = this.#kit
    const timers = kit.signOfLifeTimers(
      {
        // While the link holds MQTT.js from reading, the broker's silence is its own: every look counts as a sign
        // of life, so the keepalive pings on but does not expire (the lean link suspends its keepalive alike).
        received: () => (this.#held.paused ? ++this.#received : this.#received),
        pingAgain: () => {
          this.mqtt?.sendPing()
          this.mqtt?.reschedulePing(true)
        },
        expiring: () => (this.#keepaliveExpired = true),
      },
      this.#intervals,
    )
    options.timerVariant = timers as IClientOptions['timerVariant']
    let made: MqttClient | undefined
    options.messageIdProvider = new kit.InFlightAwareIds((id) => made?.outgoing[id] !== undefined)
    const url = attempt.endpoint.url
    const client = mqtt.connect(url, { ...options, ...(attemptOptions(attempt, settings, kit.connectProperties) satisfies IClientOptions) })
    made = client
    if (this.#resumed) this.#session.resume(client, this.#resumed.outgoing)
    takeMessages(client, {
      held: this.#held,
      qos2: this.#qos2,
      topic: () => this.#topic,
      reading: (qos) => {
        this.#received += 1
        if (qos > 0) this.#writes?.hold(client.stream as unknown as Parameters<WriteBatch['hold']>[0])
      },
    })
    // Innermost: the transport watch reads the stream a proxy's tunnel stands in for.
    kit.streamsOf?.(client)
    this.#transport.watchStreamsOf(client)
    noDelayOnStreamsOf(client)
    client.on('packetreceive', (packet) => this.#onPacket(packet))
    client.on('message', (topic) => (this.#topic = topic))
    client.on('error', (error) => this.#onError(error))
    client.on('disconnect', (packet: IDisconnectPacket) =>
      this.#events.failed({ type: 'disconnect', code: packet.reasonCode ?? 0, reason: packet.properties?.reasonString }),
    )
    client.on('close', () => this.#onClose())
    // MQTT.js emits `connect` once it has resent (one by one, each acknowledged) the stored publishes: the end
    // of the gap, when new packets may go out behind them.
    client.on('connect', () => {
      if (!this.#accepted) return
      this.#reportConnected()
      if (this.#gap.end()) this.#events.drained()
    })
    return client
  }

  #onPacket(packet: Packet): void {
    this.#probes.answerAll(true)
    if (packet.cmd === 'pubrel') this.#qos2.released(packet.messageId as number)
    // Before MQTT.js answers it with PUBREL: a QoS 2 publish the broker has, recorded as released.
    else if (packet.cmd === 'pubrec' && (packet.reasonCode ?? 0) < 0x80 && this.mqtt?.outgoing[packet.messageId as number]) this.#resumed?.record({ type: 'released', packetId: packet.messageId as number })
    if (packet.cmd !== 'connack' || this.#accepted) return
    const connack = packet as IConnackPacket
    const code = connack.reasonCode ?? connack.returnCode ?? 0
    if (code !== 0) {
      this.#refusedCode = code
      this.#events.failed({ type: 'refused', code, message: `Connection refused: ${this.#kit.reasonText(code)}` })
      return
    }
    this.#accepted = true
    this.#gap.begin()
    const client = this.mqtt as MqttClient
    acceptConnack(client, connack, this.#session, this.#qos2, this.#kit.concatBytes, this.#settings.keepalive, (chunk) => (this.#lastChunk = chunk))
    this.#connack = toConnack(connack)
    // After MQTT.js's own CONNACK handling (it runs next, synchronously): from then on a publish is sent, or
    // queued behind the unacknowledged ones MQTT.js resends first, never held in its offline store.
    queueMicrotask(() => {
      if (client.connected) this.#reportConnected()
    })
  }

  #reportConnected(): void {
    const connack = this.#connack
    this.#connack = undefined
    if (connack && this.#accepted) this.#events.connected(connack)
  }

  #onError(error: Error): void {
    if (error === PUBREC_LEFT_TO_LINK) return
    const failure = mqttJsFailure(error, { accepted: this.#accepted, keepaliveExpired: this.#keepaliveExpired, refusedCode: this.#refusedCode, lastChunk: this.#lastChunk })
    if (!failure) return
    // mqtt-packet's parser is out of step after a malformed packet: no later acknowledgement would arrive.
    if (failure.type === 'malformed') this.mqtt?.stream?.destroy()
    this.#events.failed(failure)
  }

  /** The engine's code threw in a `done` of a held message: a failed connection, never a crash. */
  #crashed(error: unknown): void {
    this.#events.failed({ type: 'protocol', message: `the MQTT.js link failed: ${error instanceof Error ? error.message : String(error)}` })
    this.drop()
  }

  #onClose(): void {
    if (this.#closeReported) return
    this.#closeReported = true
    this.#gap.lose()
    this.#held.restart(0)
    this.#backpressure.reset()
    this.#probes.answerAll(false)
    this.#lastChunk = undefined
    this.#transport.end()
    if (!this.#accepted && this.#refusedCode === undefined && Date.now() - this.#openedAt >= this.#settings.connectTimeout) {
      this.#events.failed({ type: 'connect-timeout' })
    }
    this.#events.closed()
  }
}

/**
 * Makes MQTT.js links, with what they share with the lean link (`kit`, see {@link LinkKit}). `intervals` makes
 * each link's keepalive timers (the thread's own by default; a browser's entry gives Worker timers), ended with
 * the link's final close.
 */
export function mqttJsLinks(kit: LinkKit, intervals: () => Intervals = () => kit.threadIntervals) {
  // A link of the class, not just `Link`: the browser's lazy link relies on its subscribeMany and unsubscribeMany.
  return (settings: LinkSettings, events: LinkEvents): MqttJsLink => new MqttJsLink(settings, events, intervals(), kit)
}
