// The tab side of the shared connection, without a browser: what a tab tells the hub (one observation per
// filter, released once; publishes handed to each new hub by the rules of their QoS) and how SDK errors and
// statuses cross between tabs with their classes. The browser test (test/browser/shared-connection.test.ts)
// covers the whole over Web Locks and BroadcastChannel in Chromium.
import { describe, expect, it } from 'vitest'
import { ClientClosedError, ConnectionLostError, InvalidTopicError, NotAuthorizedError, PayloadTooLargeError, PublishTimeoutError, SubscriptionRejectedError } from '../../lib/errors.js'
import type { FilterObserver, IncomingMessage } from '../../lib/subscriptions/broker-subscription.js'
import { fromWireError, fromWireStatus, type ToHub, toWireError, toWireStatus } from '../../lib/shared/tab-protocol.js'
import { TabPublisher } from '../../lib/shared/tab-publisher.js'
import { TabSubscriptions } from '../../lib/shared/tab-subscriptions.js'
import { parseFilter } from '../../lib/topic.js'

function recorder(): { sent: ToHub[]; send: (m: ToHub) => void } {
  const sent: ToHub[] = []
  return { sent, send: (m) => sent.push(m) }
}

function observer(qos: 0 | 1 | 2 = 0): FilterObserver & { got: IncomingMessage[]; failed: Error[] } {
  const got: IncomingMessage[] = []
  const failed: Error[] = []
  return { qos, got, failed, next: (m) => got.push(m), error: (e) => failed.push(e), complete: () => undefined }
}

describe('errors and statuses between tabs', () => {
  it('keep their class, name, message and fields through structured clone', () => {
    const errors = [
      new NotAuthorizedError('refused', { reasonCode: 135 }),
      new SubscriptionRejectedError('a/#', 135),
      new PayloadTooLargeError('too big', 1024),
      new InvalidTopicError('a/+', 'wildcards are not allowed in a topic name'),
      new ConnectionLostError('lost', { cause: new Error('socket hang up') }),
    ]
    for (const error of errors) {
      const back = fromWireError(structuredClone(toWireError(error)))
      expect(back).toBeInstanceOf(error.constructor)
      expect(back).toBeInstanceOf(Error)
      expect({ name: back.name, message: back.message, reasonCode: back.reasonCode }).toEqual({ name: error.name, message: error.message, reasonCode: error.reasonCode })
    }
    expect((fromWireError(toWireError(errors[1])) as SubscriptionRejectedError).filter).toBe('a/#')
    expect((fromWireError(toWireError(errors[2])) as PayloadTooLargeError).limit).toBe(1024)
    expect((fromWireError(toWireError(errors[4])).cause as Error).message).toBe('socket hang up')
    // Not an SDK error (a bug, a foreign library): it arrives as the SDK's base class, with its message.
    const foreign = fromWireError(toWireError(new RangeError('out of range')))
    expect(foreign.name).toBe('IotPubSubError')
    expect(foreign.message).toBe('out of range')
  })

  it('statuses with errors survive the trip', () => {
    const status = { type: 'reconnecting', url: 'ws://h:1', attempt: 2, delay: 400, error: new ConnectionLostError('gone') } as const
    const back = fromWireStatus(structuredClone(toWireStatus(status)))
    expect(back.type === 'reconnecting' && back.error).toBeInstanceOf(ConnectionLostError)
    const closed = fromWireStatus(structuredClone(toWireStatus({ type: 'closed', error: new NotAuthorizedError('no', { reasonCode: 5 }) })))
    expect(closed.type === 'closed' && closed.error).toBeInstanceOf(NotAuthorizedError)
  })
})

describe('a tab\'s filters', () => {
  it('one observation per filter at the hub, upgraded once for a higher QoS, released once after the last observer', () => {
    const { sent, send } = recorder()
    const subs = new TabSubscriptions(10, send, 'tab1')
    const a = observer(0)
    const b = observer(1)
    const c = observer(0)
    const subscription = subs.add(parseFilter('rooms/+/temp'), a)
    subs.add(parseFilter('rooms/+/temp'), b)
    subs.add(parseFilter('rooms/+/temp'), c)
    expect(sent.map((m) => (m.t === 'observe' ? [m.t, m.observe.qos] : [m.t]))).toEqual([['observe', 0], ['observe', 1]])
    subs.release(subscription, a)
    subs.release(subscription, b)
    expect(sent.filter((m) => m.t === 'release')).toEqual([])
    subs.release(subscription, c)
    expect(sent.filter((m) => m.t === 'release')).toEqual([{ t: 'release', tab: 'tab1', id: subscription.id }])
    expect(subs.requests()).toEqual([])
  })

  it('delivers by filter id, replays retained values to a late observer at once, and errors the observers of a refused filter', () => {
    const { send } = recorder()
    const subs = new TabSubscriptions(10, send, 'tab1')
    const first = observer()
    const subscription = subs.add(parseFilter('rooms/#'), first)
    const payload = new TextEncoder().encode('21.5')
    subs.deliver([[subscription.id, 'rooms/kitchen', payload, 0, true, undefined], [subscription.id + 1, 'elsewhere', payload, 0, false, undefined]])
    expect(first.got.map((m) => m.topic)).toEqual(['rooms/kitchen'])
    const late = observer()
    subs.add(parseFilter('rooms/#'), late)
    expect(late.got.map((m) => [m.topic, m.retain])).toEqual([['rooms/kitchen', true]])
    subs.failed(subscription.id, new SubscriptionRejectedError('rooms/#', 135))
    expect([first.failed[0], late.failed[0]].every((e) => e instanceof SubscriptionRejectedError)).toBe(true)
  })
})

describe('a tab\'s publishes', () => {
  it('fail at once on bad input, as with a connection of its own, and nothing is sent', async () => {
    const { sent, send } = recorder()
    const publisher = new TabPublisher(send, 'tab1')
    publisher.welcome('hub1')
    await expect(publisher.publish('a/+', 'x', {})).rejects.toBeInstanceOf(InvalidTopicError)
    await expect(publisher.publish('a', 'x', { qos: 3 as 0 })).rejects.toThrow(/qos/i)
    expect(sent).toEqual([])
  })

  it('go to the hub once; a new hub gets the unanswered QoS 1 ones again, and a QoS 0 one already handed over fails as lost', async () => {
    const { sent, send } = recorder()
    const publisher = new TabPublisher(send, 'tab1')
    const waiting = publisher.publish('a', 'before any hub', { qos: 0 })
    publisher.welcome('hub1')
    const q1 = publisher.publish('a', 'one', { qos: 1 })
    const q0 = publisher.publish('a', 'zero', { qos: 0 })
    expect(sent.map((m) => m.t === 'publish' && m.publish.payload)).toEqual(['before any hub', 'one', 'zero'])
    publisher.settle(1, undefined)
    await expect(waiting).resolves.toBeUndefined()
    const resent = publisher.handover('hub2')
    expect(resent.map((p) => p.payload)).toEqual(['one'])
    await expect(q0).rejects.toBeInstanceOf(ConnectionLostError)
    publisher.welcome('hub2')
    expect(sent.length).toBe(3)
    publisher.settle(resent[0]!.id, fromWireError(toWireError(new NotAuthorizedError('denied', { reasonCode: 135 }))))
    await expect(q1).rejects.toBeInstanceOf(NotAuthorizedError)
  })

  it('time out locally and tell the hub to withdraw; end rejects what is left with ClientClosedError', async () => {
    const { sent, send } = recorder()
    const publisher = new TabPublisher(send, 'tab1')
    publisher.welcome('hub1')
    await expect(publisher.publish('a', 'slow', { qos: 1, timeout: 5 })).rejects.toBeInstanceOf(PublishTimeoutError)
    expect(sent.at(-1)).toEqual({ t: 'cancel', tab: 'tab1', id: 1 })
    const abort = new AbortController()
    const aborted = publisher.publish('a', 'aborted', { qos: 1, signal: abort.signal })
    abort.abort()
    await expect(aborted).rejects.toBeInstanceOf(PublishTimeoutError)
    const pending = publisher.publish('a', 'pending', { qos: 1 })
    const drained = publisher.drain(Date.now() + 5)
    await drained
    publisher.stop(undefined)
    await expect(pending).rejects.toBeInstanceOf(ClientClosedError)
    await expect(publisher.publish('a', 'after', {})).rejects.toBeInstanceOf(ClientClosedError)
  })
})

describe('a tab\'s late observer of an incomplete retained cache', () => {
  it('is observed at the hub on its own (the hub\'s client gives it the stored values), and released on its own', () => {
    const { sent, send } = recorder()
    const subs = new TabSubscriptions(10, send, 'tab1')
    const first = observer()
    const subscription = subs.add(parseFilter('rooms/#'), first)
    const bytes = (text: string) => new TextEncoder().encode(text)
    subs.deliver([[subscription.id, 'rooms/kitchen', bytes('21'), 0, true, undefined]])
    // A live message on a cached topic (a retained publish forwarded live, or not retained at all): dropped.
    subs.deliver([[subscription.id, 'rooms/kitchen', bytes('22'), 0, false, undefined]])
    expect(subscription.incomplete).toBe(true)
    const late = observer()
    const alone = subs.add(parseFilter('rooms/#'), late)
    expect(alone).not.toBe(subscription)
    expect(late.got).toEqual([])
    const observes = sent.filter((m) => m.t === 'observe').map((m) => (m.t === 'observe' ? m.observe : undefined))
    expect(observes).toEqual([{ id: subscription.id, filter: 'rooms/#', qos: 0 }, { id: alone.id, filter: 'rooms/#', qos: 0 }])
    expect(subs.requests().map((r) => r.id)).toEqual([subscription.id, alone.id])
    // The hub's client answers the new observation with the stored value; live messages come on both.
    subs.deliver([[alone.id, 'rooms/kitchen', bytes('22'), 0, true, undefined]])
    subs.deliver([[subscription.id, 'rooms/kitchen', bytes('23'), 0, false, undefined], [alone.id, 'rooms/kitchen', bytes('23'), 0, false, undefined]])
    expect(late.got.map((m) => [new TextDecoder().decode(m.payload), m.retain])).toEqual([['22', true], ['23', false]])
    expect(first.got.map((m) => [new TextDecoder().decode(m.payload), m.retain])).toEqual([['21', true], ['22', false], ['23', false]])
    subs.release(alone, late)
    expect(sent.at(-1)).toEqual({ t: 'release', tab: 'tab1', id: alone.id })
    expect(subs.requests().map((r) => r.id)).toEqual([subscription.id])
  })
})
