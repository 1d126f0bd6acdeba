// The facade Client end to end over a FakeLink: the gaps after a CONNACK (the status told before the parts have
// heard of the connection; a link still resending its store), grants across a reconnect, and end() bounded by
// its timeout.
import { take } from 'rxjs'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { vi } from 'vitest'
import type { SubscriptionInfo } from '../../lib/subscriptions/broker-subscription.js'
import { Client } from '../../lib/client/client.js'
import { ClientClosedError } from '../../lib/errors.js'
import type { Credentials, MQTTClientOptions } from '../../lib/options/client-options.js'
import { nodePlatform } from '../../lib/options/endpoints.js'
import type { Status } from '../../lib/status.js'
import { FakeLinks } from '../support/fake-link.js'

function setup(options: Partial<MQTTClientOptions> = {}) {
  const links = new FakeLinks()
  const client = new Client({ url: 'mqtt://a', clientId: 'dev-1', ...options }, { platform: nodePlatform, links: links.create, defer: (f) => f(), debugLogger: () => undefined })
  const statuses: Status[] = []
  client.status$.subscribe((s) => statuses.push(s))
  return { client, link: links.link, statuses }
}

/** The current subscriptions$ snapshot (replayed synchronously to a new listener). */
function snapshot(client: Client): readonly SubscriptionInfo[] {
  let value: readonly SubscriptionInfo[] = []
  client.subscriptions$.pipe(take(1)).subscribe((v) => (value = v))
  return value
}

function track(promise: Promise<void>) {
  const t: { state: 'pending' | 'resolved' | 'rejected'; error: unknown } = { state: 'pending', error: undefined }
  promise.then(
    () => (t.state = 'resolved'),
    (error: unknown) => Object.assign(t, { state: 'rejected', error }),
  )
  return t
}

beforeEach(() => {
  vi.useFakeTimers()
})
afterEach(() => {
  vi.useRealTimers()
})

describe('Client over a FakeLink: the gaps after a CONNACK', () => {
  it('a publish made while the link resends its store (not writable) waits, and goes out after the queued ones, in order', async () => {
    const { client, link } = setup()
    const a = track(client.publish('t/a', 'a', { qos: 1 }))
    const b = track(client.publish('t/b', 'b', { qos: 0 }))
    link.writable = false // as the MQTT.js link is until MQTT.js has resent what the session kept
    link.accept()
    const c = track(client.publish('t/c', 'c', { qos: 1 }))
    expect(link.publishes).toHaveLength(0)
    link.drain()
    expect(link.publishes.map((p) => p.topic)).toEqual(['t/a', 't/b', 't/c'])
    link.ack(1)
    link.ack(2)
    await vi.advanceTimersByTimeAsync(0)
    expect([a.state, b.state, c.state]).toEqual(['resolved', 'resolved', 'resolved'])
    client.publish('t/d', 'd').catch(() => undefined)
    expect(link.publishes.at(-1)?.topic).toBe('t/d')
  })

  it('a publish made by a status$ observer on `connected` waits behind the queued ones', () => {
    const { client, link } = setup()
    client.publish('t/a', 'a', { qos: 1 }).catch(() => undefined)
    let sentBefore = -1
    client.status$.subscribe((s) => {
      if (s.type !== 'connected') return
      client.publish('t/c', 'c', { qos: 1 }).catch(() => undefined)
      sentBefore = link.publishes.length
    })
    link.accept()
    expect(sentBefore).toBe(0)
    expect(link.publishes.map((p) => p.topic)).toEqual(['t/a', 't/c'])
  })

  it('an observe() made by a status$ observer on `connected` sends exactly one SUBSCRIBE', () => {
    const { client, link } = setup()
    const early = client.observe('e/#').subscribe()
    let gap: { unsubscribe(): void } | undefined
    let sentBefore = -1
    client.status$.subscribe((s) => {
      if (s.type !== 'connected') return
      gap = client.observe('s/#', { qos: 1 }).subscribe()
      sentBefore = link.subscribes.length
    })
    link.accept()
    expect(sentBefore).toBe(0)
    expect(link.subscribes.map((s) => [s.filter, s.options.qos])).toEqual([['e/#', 0], ['s/#', 1]])
    early.unsubscribe()
    gap?.unsubscribe()
    expect(link.unsubscribes.map((u) => u.filter)).toEqual(['e/#', 's/#'])
  })
})

describe('Client over a FakeLink: grants across a reconnect', () => {
  it('grantedQos is undefined from the loss until the new SUBACK', async () => {
    const { client, link, statuses } = setup()
    client.observe('s/#', { qos: 2 }).subscribe()
    link.accept()
    link.suback('s/#', { granted: 1 })
    expect(snapshot(client)).toEqual([{ filter: 's/#', requestedQos: 2, grantedQos: 1, observers: 1 }])
    link.closed()
    expect(snapshot(client)[0]?.grantedQos).toBeUndefined()
    const reconnecting = statuses.at(-1)
    await vi.advanceTimersByTimeAsync(reconnecting?.type === 'reconnecting' ? reconnecting.delay : 60_000)
    link.accept()
    expect(link.subscribes).toHaveLength(2)
    expect(snapshot(client)[0]?.grantedQos).toBeUndefined()
    link.suback('s/#', { granted: 2 })
    expect(snapshot(client)[0]?.grantedQos).toBe(2)
  })
})

describe('Client over a FakeLink: a refused SUBACK', () => {
  // KNOWN BUG (left failing on purpose): the refused subscription's observers are torn down after their error
  // callback, and Subscriptions.release() then sends UNSUBSCRIBE for the filter without checking that the
  // subscription is still the registered one: it removes the new subscription at the broker.
  it('resubscribing from the error handler keeps the new subscription on the broker', () => {
    const { client, link } = setup()
    link.accept()
    client.observe('r/#', { qos: 2 }).subscribe({ error: () => void client.observe('r/#', { qos: 0 }).subscribe() })
    link.suback('r/#', { refused: 0x9e })
    expect(link.subscribes.map((s) => s.options.qos)).toEqual([2, 0])
    expect(snapshot(client)).toEqual([{ filter: 'r/#', requestedQos: 0, grantedQos: undefined, observers: 1 }])
    expect(link.unsubscribes.map((u) => u.filter)).toEqual([])
  })
})

describe('Client over a FakeLink: end()', () => {
  it('with a credentials provider that never resolves: resolves, opens nothing, rejects pending publishes', async () => {
    const { client, link, statuses } = setup({ credentials: () => new Promise<Credentials>(() => undefined) })
    const queued = track(client.publish('t', 'x', { qos: 1 }))
    const ended = track(client.end({ timeout: 1_000 }))
    await vi.advanceTimersByTimeAsync(1_000)
    expect(ended.state).toBe('resolved')
    expect(queued.error).toBeInstanceOf(ClientClosedError)
    expect(link.opens).toHaveLength(0)
    expect(statuses.at(-1)).toEqual({ type: 'closed', error: undefined })
  })

  it('never waits for acknowledgements and DISCONNECT longer than its timeout in total', async () => {
    const { client, link } = setup()
    link.accept()
    link.slowClose = true // a broker that never closes its side: the close takes all the time it is given
    const unanswered = track(client.publish('t', 'x', { qos: 1 }))
    const ended = track(client.end({ timeout: 1_000 }))
    await vi.advanceTimersByTimeAsync(999)
    expect(ended.state).toBe('pending')
    await vi.advanceTimersByTimeAsync(1)
    expect(ended.state).toBe('resolved')
    // A quarter of the timeout (at most 1 s) is kept for DISCONNECT: a graceful end always sends one.
    expect(link.closes).toEqual([{ force: false, timeout: 250 }])
    expect(unanswered.error).toBeInstanceOf(ClientClosedError)
  })

  it('after an early PUBACK, the DISCONNECT gets the rest of the timeout, not a new one', async () => {
    const { client, link } = setup()
    link.accept()
    link.slowClose = true
    const answered = track(client.publish('t', 'x', { qos: 1 }))
    const ended = track(client.end({ timeout: 1_000 }))
    await vi.advanceTimersByTimeAsync(300)
    link.ack(1)
    await vi.advanceTimersByTimeAsync(699)
    expect(link.closes).toEqual([{ force: false, timeout: 700 }])
    expect(ended.state).toBe('pending')
    await vi.advanceTimersByTimeAsync(1)
    expect(ended.state).toBe('resolved')
    expect(answered.state).toBe('resolved')
  })
})

describe('Client over a FakeLink: order on the wire', () => {
  it('a publish made after observe() in the same task goes out after its SUBSCRIBE, which waits for the end of the task to share a packet', async () => {
    const { client, link } = setup()
    link.accept()
    link.enableMany()
    const order: string[] = []
    const many = link.subscribeMany?.bind(link)
    link.subscribeMany = (subscriptions, done) => {
      order.push(`SUBSCRIBE ${subscriptions.map((s) => s.filter).join(' ')}`)
      many?.(subscriptions, done)
    }
    const one = link.subscribe.bind(link)
    link.subscribe = (filter, options, done) => {
      order.push(`SUBSCRIBE ${filter}`)
      one(filter, options, done)
    }
    const publish = link.publish.bind(link)
    link.publish = (topic, payload, options, done) => {
      order.push(`PUBLISH ${topic}`)
      return publish(topic, payload, options, done)
    }
    client.observe('order/a').subscribe()
    client.observe('order/b').subscribe()
    void client.publish('order/a', 'x').catch(() => undefined)
    client.observe('order/c').subscribe()
    await vi.advanceTimersByTimeAsync(0)
    expect(order).toEqual(['SUBSCRIBE order/a order/b', 'PUBLISH order/a', 'SUBSCRIBE order/c'])
  })
})
