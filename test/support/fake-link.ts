// A Link with no socket: it records what the engine asks of it, and the test plays the broker's side.
import { vi, type Mock } from 'vitest'
import type { IncomingMessage } from '../../lib/subscriptions/broker-subscription.js'
import type {
  Attempt,
  Connack,
  Link,
  LinkAckError,
  LinkEvents,
  LinkFactory,
  LinkFailure,
  LinkPublishOptions,
  LinkSettings,
  LinkSubscribeOptions,
  LinkSubscription,
  Suback,
} from '../../lib/link/link.js'

export interface PublishCall {
  readonly topic: string
  readonly payload: Uint8Array | string
  readonly options: LinkPublishOptions
  readonly done: (error?: LinkAckError) => void
  readonly packetId: number | undefined
}

export interface SubscribeCall {
  readonly filter: string
  readonly options: LinkSubscribeOptions
  readonly done: (result: Suback) => void
  answered: boolean
}

export interface UnsubscribeCall {
  readonly filter: string
  readonly done: (ok: boolean) => void
}

/** A SUBSCRIBE of several filters (the link's `subscribeMany`, once the test turns it on). */
export interface SubscribeManyCall {
  readonly subscriptions: readonly LinkSubscription[]
  readonly done: (results: readonly Suback[]) => void
}

/** An UNSUBSCRIBE of several filters (the link's `unsubscribeMany`, once the test turns it on). */
export interface UnsubscribeManyCall {
  readonly filters: readonly string[]
  readonly done: (ok: boolean) => void
}

export const CONNACK: Connack = { sessionPresent: false, maximumQoS: undefined, maximumPacketSize: undefined, receiveMaximum: 65_535, subscriptionIdentifiersAvailable: true, properties: undefined }

export class FakeLink implements Link {
  readonly opens: Attempt[] = []
  readonly publishes: PublishCall[] = []
  readonly withdraws: number[] = []
  readonly subscribes: SubscribeCall[] = []
  readonly unsubscribes: UnsubscribeCall[] = []
  readonly closes: { force: boolean; timeout: number }[] = []
  drops = 0
  readonly subscribeManys: SubscribeManyCall[] = []
  readonly unsubscribeManys: UnsubscribeManyCall[] = []
  /** Absent until `enableMany()`: a link without them gets one request per filter. */
  subscribeMany?: (subscriptions: readonly LinkSubscription[], done: (results: readonly Suback[]) => void) => void
  unsubscribeMany?: (filters: readonly string[], done: (ok: boolean) => void) => void
  /** When true, close() takes its whole `timeout` (a broker that never closes its side); else it resolves at once. */
  slowClose = false
  /** The link's `writable`: set false to play a socket over its high-water mark, then `drain()`. */
  writable = true
  private nextPacketId = 1

  constructor(
    readonly events: LinkEvents,
    readonly settings?: LinkSettings,
  ) {}

  /** The attempt under way (the last open). */
  get attempt(): Attempt | undefined {
    return this.opens.at(-1)
  }

  // --- the Link, as the engine sees it ---------------------------------------------------------------------

  open(attempt: Attempt): void {
    this.opens.push(attempt)
  }

  /** QoS 0 is "written" at once (done called synchronously, as on a write); QoS 1/2 get a packet id. */
  publish(topic: string, payload: Uint8Array | string, options: LinkPublishOptions, done: (error?: LinkAckError) => void): number | undefined {
    const packetId = options.qos > 0 ? this.nextPacketId++ : undefined
    this.publishes.push({ topic, payload, options, done, packetId })
    if (options.qos === 0) done()
    return packetId
  }

  withdraw(packetId: number): void {
    this.withdraws.push(packetId)
  }

  subscribe(filter: string, options: LinkSubscribeOptions, done: (result: Suback) => void): void {
    this.subscribes.push({ filter, options, done, answered: false })
  }

  unsubscribe(filter: string, done: (ok: boolean) => void): void {
    this.unsubscribes.push({ filter, done })
  }

  drop(): void {
    this.drops += 1
  }

  close(options: { force: boolean; timeout: number }): Promise<void> {
    this.closes.push(options)
    if (!this.slowClose || options.timeout <= 0) return Promise.resolve()
    return new Promise((resolve) => setTimeout(resolve, options.timeout))
  }

  /** Gives the link `subscribeMany` and `unsubscribeMany` (several filters per packet), recorded apart. */
  enableMany(): this {
    this.subscribeMany = (subscriptions, done) => void this.subscribeManys.push({ subscriptions, done })
    this.unsubscribeMany = (filters, done) => void this.unsubscribeManys.push({ filters, done })
    return this
  }

  // --- the broker's side, scripted by the test -------------------------------------------------------------

  /** The socket took what it held: `writable` again, and `drained` reported. */
  drain(): void {
    this.writable = true
    this.events.drained()
  }

  /** CONNACK 0: the link is connected (set `writable` false first for a link still resending its store). */
  accept(connack: Partial<Connack> = {}): void {
    this.events.connected({ ...CONNACK, ...connack })
  }

  refuse(code: number): void {
    this.events.failed({ type: 'refused', code, message: `Connection refused (${code})` })
    this.events.closed()
  }

  fail(failure: LinkFailure): void {
    this.events.failed(failure)
  }

  /** The socket closed (the broker's `close()`; named so because `close` is the Link's own method). */
  closed(): void {
    this.events.closed()
  }

  deliver(message: Partial<IncomingMessage> & { topic: string }): Mock<() => void> {
    const done = vi.fn<() => void>()
    this.events.message({ payload: new Uint8Array(), qos: 0, retain: false, ...message }, done)
    return done
  }

  /** The PUBACK/PUBCOMP (or the refusal) of the publish that was given `packetId`. */
  ack(packetId: number, error?: LinkAckError): void {
    const call = this.publishes.find((p) => p.packetId === packetId)
    if (!call) throw new Error(`no publish with packet id ${packetId}`)
    call.done(error)
  }

  /** Answers the oldest unanswered SUBSCRIBE of `filter`. */
  suback(filter: string, result: Suback): void {
    const call = this.subscribes.find((s) => s.filter === filter && !s.answered)
    if (!call) throw new Error(`no SUBSCRIBE of ${filter} awaits its SUBACK`)
    call.answered = true
    call.done(result)
  }
}

/** A LinkFactory (for `ClientRuntime.links`) that keeps the links it made. */
export class FakeLinks {
  readonly made: FakeLink[] = []
  readonly create: LinkFactory = (settings, events) => {
    const link = new FakeLink(events, settings)
    this.made.push(link)
    return link
  }

  get link(): FakeLink {
    const link = this.made.at(-1)
    if (!link) throw new Error('no link made yet')
    return link
  }
}
