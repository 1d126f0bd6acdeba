// Requester against a fake client (RxJS Subjects) and fake timers: deadlines, readiness, error types.
import { BehaviorSubject, Observable, Subject } from 'rxjs'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { SubscriptionInfo } from '../../lib/subscriptions/broker-subscription.js'
import { ClientClosedError, ConnectionLostError, IotPubSubError, PublishError } from '../../lib/errors.js'
import { RequestTimeoutError, ResponderError, SubscriptionRejectedError, UnsupportedOptionError } from '../../lib/errors.js'
import type { Message, MessageProperties } from '../../lib/message.js'
import type { ObserveOptions, PublishOptions } from '../../lib/options/client-options.js'
import { ERROR_NAME_PROPERTY, ERROR_PROPERTY, type RequestClient, Requester } from '../../lib/services/requester.js'
import { servicesKit } from '../../lib/services/services-kit.js'
import type { Status } from '../../lib/status.js'

const REPLY = 'iotpubsub/reply/fake'
const URL = 'mqtt://fake'

interface Publish {
  readonly topic: string
  readonly payload: unknown
  readonly options: PublishOptions
  resolve(): void
  reject(error: unknown): void
}

/** The public client API, driven by hand: the test says when the CONNACK, the SUBACK and the replies come. */
class FakeClient implements RequestClient {
  readonly clientId = 'fake'
  readonly statusSubject = new BehaviorSubject<Status>({ type: 'connecting', url: URL })
  readonly status$ = this.statusSubject.asObservable()
  // Replays the current list, as the client's does, grantedQos included (the client keeps it across reconnects).
  readonly subscriptionsSubject = new BehaviorSubject<readonly SubscriptionInfo[]>([])
  readonly subscriptions$ = this.subscriptionsSubject.asObservable()
  readonly replySubject = new Subject<Message<Uint8Array>>()
  readonly published: Publish[] = []
  /** Whether publishes wait for the test to settle them; by default they are acknowledged at once (PUBACK). */
  holdAcks = false
  observed = 0

  observe(filter: string, _options: ObserveOptions<Uint8Array>): Observable<Message<Uint8Array>> {
    expect(filter).toBe(REPLY)
    this.observed += 1
    return this.replySubject.asObservable()
  }

  publish(topic: string, payload: unknown, options: PublishOptions = {}): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.published.push({ topic, payload, options, resolve, reject })
      if (!this.holdAcks) resolve()
    })
  }

  connect = (protocolVersion: 4 | 5 = 5): void => this.statusSubject.next({ type: 'connected', url: URL, sessionPresent: false, protocolVersion })
  suback = (): void => this.subscriptionsSubject.next([{ filter: REPLY, requestedQos: 1, grantedQos: 1, observers: 1 }])
  lose = (): void => this.statusSubject.next({ type: 'reconnecting', url: URL, attempt: 1, delay: 1_000, error: new ConnectionLostError('socket closed') })

  /** Answers a publish the way a responder would, or with an error reply. */
  reply(request: Publish, payload = 'pong', userProperties?: Record<string, string>): void {
    const correlationData = request.options.properties?.correlationData
    const properties: MessageProperties = userProperties ? { correlationData, userProperties } : { correlationData }
    const raw = new TextEncoder().encode(payload)
    this.replySubject.next({ topic: REPLY, payload: raw, raw, qos: 1, retain: false, params: [], properties, ack: () => undefined, nack: () => undefined })
  }
}

/** The outcome of a request, readable synchronously after the timers have moved on. */
function track(promise: Promise<Message<Uint8Array>>): { outcome?: Message<Uint8Array> | Error } {
  const state: { outcome?: Message<Uint8Array> | Error } = {}
  promise.then((message) => void (state.outcome = message), (error: Error) => void (state.outcome = error))
  return state
}

const text = (outcome: Message<Uint8Array> | Error | undefined): string =>
  outcome instanceof Error || outcome === undefined ? `not a reply: ${String(outcome)}` : new TextDecoder().decode(outcome.raw)

describe('Requester (fake client, fake timers)', () => {
  const unhandled: unknown[] = []
  const onUnhandled = (reason: unknown): void => void unhandled.push(reason)
  let client: FakeClient
  let requester: Requester

  beforeEach(() => {
    vi.useFakeTimers()
    unhandled.length = 0
    process.on('unhandledRejection', onUnhandled)
    client = new FakeClient()
    requester = new Requester(servicesKit, client, REPLY)
  })

  afterEach(async () => {
    vi.useRealTimers()
    // Node reports unhandled rejections after the microtask queue drains: one real macrotask turn.
    await new Promise((resolve) => setImmediate(resolve))
    process.off('unhandledRejection', onUnhandled)
    expect(unhandled).toEqual([])
  })

  it('a request made before the connection is up waits for the CONNACK and the SUBACK, then is published and answered', async () => {
    const request = track(requester.request('rpc/ping', 'ping', { timeout: 1_000 }))
    client.connect()
    await vi.advanceTimersByTimeAsync(10)
    expect(client.published).toEqual([])
    client.suback()
    await vi.advanceTimersByTimeAsync(0)
    expect(client.published.map((p) => p.topic)).toEqual(['rpc/ping'])
    client.reply(client.published[0] as Publish)
    await vi.advanceTimersByTimeAsync(0)
    expect(text(request.outcome)).toBe('pong')
  })

  it('no connection within the deadline: RequestTimeoutError at the deadline, nothing published, nothing left unhandled', async () => {
    const request = track(requester.request('rpc/ping', 'ping', { timeout: 300 }))
    await vi.advanceTimersByTimeAsync(299)
    expect(request.outcome).toBeUndefined()
    await vi.advanceTimersByTimeAsync(1)
    expect(request.outcome).toBeInstanceOf(RequestTimeoutError)
    client.connect()
    client.suback()
    await vi.advanceTimersByTimeAsync(0)
    expect(client.published).toEqual([])
  })

  it('concurrent requests keep their own deadlines: 55 ms times out, 5,000 ms waits for the late SUBACK and is answered', async () => {
    client.connect()
    const short = track(requester.request('rpc/a', 'a', { timeout: 55 }))
    const long = track(requester.request('rpc/b', 'b', { timeout: 5_000 }))
    await vi.advanceTimersByTimeAsync(55)
    expect(short.outcome).toBeInstanceOf(RequestTimeoutError)
    expect(long.outcome).toBeUndefined()
    await vi.advanceTimersByTimeAsync(1_000)
    expect(long.outcome).toBeUndefined()
    client.suback()
    await vi.advanceTimersByTimeAsync(0)
    expect(client.published.map((p) => p.topic)).toEqual(['rpc/b'])
    client.reply(client.published[0] as Publish, 'b-reply')
    await vi.advanceTimersByTimeAsync(0)
    expect(text(long.outcome)).toBe('b-reply')
  })

  it('a request whose deadline passed while the SUBACK was awaited is never published', async () => {
    client.connect()
    const long = track(requester.request('rpc/long', 'x', { timeout: 1_000 }))
    const short = track(requester.request('rpc/short', 'x', { timeout: 100 }))
    await vi.advanceTimersByTimeAsync(500)
    client.suback()
    await vi.advanceTimersByTimeAsync(0)
    expect(client.published.map((p) => p.topic)).toEqual(['rpc/long'])
    expect(short.outcome).toBeInstanceOf(RequestTimeoutError)
    expect(long.outcome).toBeUndefined()
  })

  it('the publish is bounded by the deadline: its signal aborts when the request times out unacknowledged', async () => {
    client.holdAcks = true
    client.connect()
    client.suback()
    const request = track(requester.request('rpc/slow', 'x', { timeout: 200 }))
    await vi.advanceTimersByTimeAsync(0)
    const publish = client.published[0] as Publish
    expect(publish.options.signal?.aborted).toBe(false)
    await vi.advanceTimersByTimeAsync(200)
    expect(request.outcome).toBeInstanceOf(RequestTimeoutError)
    expect(publish.options.signal?.aborted).toBe(true)
    publish.reject(new Error('aborted')) // what the client does on abort: must not surface anywhere
    await vi.advanceTimersByTimeAsync(0)
  })

  it('readiness resets on reconnect: after a new connection, requests wait for that connection`s SUBACK', async () => {
    client.connect()
    client.suback()
    const first = track(requester.request('rpc/one', '1', { timeout: 5_000 }))
    await vi.advanceTimersByTimeAsync(0)
    client.reply(client.published[0] as Publish)
    await vi.advanceTimersByTimeAsync(0)
    expect(text(first.outcome)).toBe('pong')

    client.lose()
    client.connect() // subscriptions$ still replays the old grantedQos
    const second = track(requester.request('rpc/two', '2', { timeout: 5_000 }))
    await vi.advanceTimersByTimeAsync(100)
    expect(client.published.map((p) => p.topic)).toEqual(['rpc/one'])
    client.suback()
    await vi.advanceTimersByTimeAsync(0)
    expect(client.published.map((p) => p.topic)).toEqual(['rpc/one', 'rpc/two'])
    client.reply(client.published[1] as Publish, 'two')
    await vi.advanceTimersByTimeAsync(0)
    expect(text(second.outcome)).toBe('two')
  })

  it('a lost connection fails the requests in flight with ConnectionLostError and withdraws their publish; unsent ones wait', async () => {
    client.holdAcks = true
    client.connect()
    client.suback()
    const sent = track(requester.request('rpc/sent', 'x', { timeout: 5_000 }))
    await vi.advanceTimersByTimeAsync(0)
    client.lose()
    const waiting = track(requester.request('rpc/waiting', 'x', { timeout: 5_000 }))
    await vi.advanceTimersByTimeAsync(0)
    expect(sent.outcome).toBeInstanceOf(ConnectionLostError)
    expect((client.published[0] as Publish).options.signal?.aborted).toBe(true)
    expect(waiting.outcome).toBeUndefined()
    client.connect()
    client.suback()
    await vi.advanceTimersByTimeAsync(0)
    expect(client.published.map((p) => p.topic)).toEqual(['rpc/sent', 'rpc/waiting'])
  })

  it('the reply subscription erroring (connection lost for good) fails every pending request with its error', async () => {
    client.connect()
    client.suback()
    const sent = track(requester.request('rpc/a', 'x', { timeout: 5_000 }))
    await vi.advanceTimersByTimeAsync(0)
    const lost = new ConnectionLostError('the connection closed')
    client.replySubject.error(lost)
    await vi.advanceTimersByTimeAsync(1_000) // an error rethrown by RxJS would surface on a timer
    expect(sent.outcome).toBe(lost)
  })

  it('a refused reply subscription fails the waiting requests with SubscriptionRejectedError; the next request subscribes again', async () => {
    client.connect()
    const first = track(requester.request('rpc/a', 'x', { timeout: 5_000 }))
    client.replySubject.error(new SubscriptionRejectedError(REPLY, 135))
    await vi.advanceTimersByTimeAsync(0)
    expect(first.outcome).toBeInstanceOf(SubscriptionRejectedError)
    void requester.request('rpc/b', 'x', { timeout: 100 }).catch(() => undefined)
    expect(client.observed).toBe(2)
    await vi.advanceTimersByTimeAsync(100)
  })

  it('a failed publish rejects with its SDK error; a foreign error is wrapped in PublishError', async () => {
    client.holdAcks = true
    client.connect()
    client.suback()
    const refused = track(requester.request('rpc/a', 'x', { timeout: 5_000 }))
    const odd = track(requester.request('rpc/b', 'x', { timeout: 5_000 }))
    await vi.advanceTimersByTimeAsync(0)
    const error = new PublishError('rpc/a', 'not authorized', { reasonCode: 135 })
    ;(client.published[0] as Publish).reject(error)
    ;(client.published[1] as Publish).reject(new TypeError('boom'))
    await vi.advanceTimersByTimeAsync(0)
    expect(refused.outcome).toBe(error)
    expect(odd.outcome).toBeInstanceOf(PublishError)
    expect((odd.outcome as PublishError).cause).toBeInstanceOf(TypeError)
  })

  it('an error reply becomes ResponderError; a reply with unknown correlation data is ignored', async () => {
    client.connect()
    client.suback()
    const request = track(requester.request('rpc/a', 'x', { timeout: 5_000 }))
    await vi.advanceTimersByTimeAsync(0)
    const publish = client.published[0] as Publish
    client.reply({ ...publish, options: { properties: { correlationData: new Uint8Array([1, 2, 3]) } } })
    await vi.advanceTimersByTimeAsync(0)
    expect(request.outcome).toBeUndefined()
    client.reply(publish, '', { [ERROR_PROPERTY]: 'out of range', [ERROR_NAME_PROPERTY]: 'RangeError' })
    await vi.advanceTimersByTimeAsync(0)
    expect(request.outcome).toBeInstanceOf(ResponderError)
    expect(request.outcome).toMatchObject({ message: 'out of range', remoteName: 'RangeError' })
  })

  it('closing fails pending and later requests with ClientClosedError and leaves nothing subscribed', async () => {
    client.connect()
    const waiting = track(requester.request('rpc/a', 'x', { timeout: 5_000 }))
    await vi.advanceTimersByTimeAsync(0)
    expect(client.subscriptionsSubject.observed).toBe(true)
    client.statusSubject.next({ type: 'closed', error: undefined }) // not completed: the requester must leave by itself
    await vi.advanceTimersByTimeAsync(0)
    expect(waiting.outcome).toBeInstanceOf(ClientClosedError)
    await expect(requester.request('rpc/b', 'x')).rejects.toBeInstanceOf(ClientClosedError)
    expect(client.statusSubject.observed).toBe(false)
    expect(client.subscriptionsSubject.observed).toBe(false)
    expect(client.replySubject.observed).toBe(false)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('MQTT 3.1.1: UnsupportedOptionError, also for a request that waited for the connection', async () => {
    const waiting = track(requester.request('rpc/a', 'x', { timeout: 5_000 }))
    client.connect(4)
    await vi.advanceTimersByTimeAsync(0)
    expect(waiting.outcome).toBeInstanceOf(UnsupportedOptionError)
    await expect(requester.request('rpc/b', 'x')).rejects.toBeInstanceOf(UnsupportedOptionError)
    expect(client.published).toEqual([])
  })

  it('a timeout longer than a Node timer can wait (Infinity) does not fire at once', async () => {
    client.connect()
    const request = track(requester.request('rpc/x', 'x', { timeout: Infinity }))
    await vi.advanceTimersByTimeAsync(60_000)
    expect(request.outcome).toBeUndefined()
    client.statusSubject.next({ type: 'closed', error: undefined })
    await vi.advanceTimersByTimeAsync(0)
    expect(request.outcome).toBeInstanceOf(ClientClosedError)
  })

  it('every rejection is an IotPubSubError, never an RxJS error', async () => {
    client.connect()
    const outcomes = [10, 20, 30].map((timeout) => track(requester.request('rpc/x', 'x', { timeout })))
    await vi.advanceTimersByTimeAsync(30)
    for (const { outcome } of outcomes) expect(outcome).toBeInstanceOf(IotPubSubError)
  })
})
