// Inbound dispatch: when the link may read on (pacing against a fake clock), and manual acknowledgements.
import { describe, expect, it, vi } from 'vitest'
import type { BrokerSubscription, FilterObserver, IncomingMessage } from '../../lib/subscriptions/broker-subscription.js'
import { Dispatcher, type DispatchContext } from '../../lib/inbound/dispatcher.js'
import type { MessageDone } from '../../lib/link/link.js'
import type { AckHandle, PendingAck } from '../../lib/inbound/pending-ack.js'
import { SubscriptionRegistry } from '../../lib/subscriptions/subscription-registry.js'
import { parseFilter } from '../../lib/topic.js'

/** An observer that records what it got and, when manual, takes a share of each acknowledgement. */
class Recorder implements FilterObserver {
  readonly got: string[] = []
  readonly handles: AckHandle[] = []
  constructor(readonly qos: 0 | 1 | 2 = 1) {}
  next(message: IncomingMessage, _subscription: BrokerSubscription, ack: PendingAck | undefined): void {
    this.got.push(message.topic)
    const handle = ack?.hold()
    if (handle) this.handles.push(handle)
  }
  error(): void {}
  complete(): void {}
}

function setup() {
  const registry = new SubscriptionRegistry(10)
  const context: DispatchContext & { epoch: number } = { registry, useIdentifiers: false, epoch: 1, redeliver: vi.fn<DispatchContext['redeliver']>() }
  let clock = 0
  const deferred: (() => void)[] = []
  const defer = vi.fn((callback: () => void) => void deferred.push(callback))
  const dispatcher = new Dispatcher(context, defer, () => clock)
  const observe = (filter: string, observer: FilterObserver): BrokerSubscription => {
    const subscription = registry.get(filter) ?? registry.create(parseFilter(filter))
    subscription.add(observer)
    return subscription
  }
  const message = (topic: string, qos: 0 | 1 | 2 = 1): IncomingMessage => ({ topic, payload: new Uint8Array([1]), qos, retain: false })
  const tick = (ms: number): void => {
    clock += ms
  }
  return { dispatcher, context, defer, deferred, observe, message, tick }
}

describe('Dispatcher: pacing', () => {
  it('lets the link read on synchronously within a batch, and within the time budget', () => {
    const { dispatcher, defer, message, tick } = setup()
    const done = vi.fn()
    for (let i = 0; i < 64; i++) {
      dispatcher.message(message('a'), done)
      tick(0.1) // 6.4 ms for the batch: under the 10 ms budget
    }
    expect(done).toHaveBeenCalledTimes(64)
    expect(defer).not.toHaveBeenCalled()
  })

  it('at the end of a batch that ran past its budget, has the link wait a turn before the next message, and starts the budget over', () => {
    const { dispatcher, defer, deferred, message, tick } = setup()
    const done = vi.fn()
    for (let i = 0; i < 63; i++) dispatcher.message(message('a'), done)
    expect(done.mock.calls.every((call) => call.length === 0)).toBe(true)
    tick(10)
    // The message is done (acknowledged) at once; the link goes on to the next one only when the turn is over.
    const last = vi.fn<MessageDone>()
    dispatcher.message(message('a'), last)
    expect(done).toHaveBeenCalledTimes(63)
    expect(last).toHaveBeenCalledTimes(1)
    const turn = last.mock.calls[0]?.[0]
    expect(turn).toBeTypeOf('function')
    const resume = vi.fn()
    turn?.(resume)
    expect(defer).toHaveBeenCalledTimes(1)
    expect(resume).not.toHaveBeenCalled()
    deferred.shift()?.()
    expect(resume).toHaveBeenCalledTimes(1)
    // The next batch is measured from the pause: 9 ms later it is within budget again.
    tick(9)
    const next = vi.fn()
    for (let i = 0; i < 64; i++) dispatcher.message(message('a'), next)
    expect(next).toHaveBeenCalledTimes(64)
    expect(defer).toHaveBeenCalledTimes(1)
  })

  it('delivers to every subscription whose filter matches the topic (no identifiers)', () => {
    const { dispatcher, observe, message } = setup()
    const a = new Recorder()
    const b = new Recorder()
    const c = new Recorder()
    observe('s/+', a)
    observe('s/#', b)
    observe('t/#', c)
    dispatcher.message(message('s/1'), vi.fn())
    expect([a.got, b.got, c.got]).toEqual([['s/1'], ['s/1'], []])
  })
})

describe('Dispatcher: manual acknowledgements', () => {
  it('holds done until every holder has acknowledged', () => {
    const { dispatcher, observe, message } = setup()
    const first = new Recorder()
    const second = new Recorder()
    observe('s/+', first)
    observe('s/#', second)
    dispatcher.manualObservers = 2
    const done = vi.fn()
    dispatcher.message(message('s/1'), done)
    expect(first.handles).toHaveLength(1)
    expect(second.handles).toHaveLength(1)
    expect(done).not.toHaveBeenCalled()
    first.handles[0]?.ack()
    first.handles[0]?.ack() // twice counts once
    expect(done).not.toHaveBeenCalled()
    second.handles[0]?.ack()
    expect(done).toHaveBeenCalledTimes(1)
  })

  it('QoS 0 messages, or no manual observer, carry no acknowledgement state', () => {
    const { dispatcher, observe, message } = setup()
    const observer = new Recorder()
    observe('s/+', observer)
    const zero = vi.fn()
    dispatcher.manualObservers = 1
    dispatcher.message(message('s/1', 0), zero)
    dispatcher.manualObservers = 0
    const one = vi.fn()
    dispatcher.message(message('s/2', 1), one)
    expect(observer.handles).toHaveLength(0)
    expect(zero).toHaveBeenCalledTimes(1)
    expect(one).toHaveBeenCalledTimes(1)
  })

  it('a nack asks for redelivery and never lets the link acknowledge', () => {
    const { dispatcher, context, observe, message } = setup()
    const observer = new Recorder()
    observe('s/+', observer)
    dispatcher.manualObservers = 1
    const done = vi.fn()
    dispatcher.message(message('s/1'), done)
    observer.handles[0]?.nack(new Error('handler failed'))
    expect(context.redeliver).toHaveBeenCalledWith('s/1', expect.objectContaining({ message: 'handler failed' }))
    expect(done).not.toHaveBeenCalled()
  })

  it('an ack after the connection changed is not passed on (its PUBACK can no longer be sent)', () => {
    const { dispatcher, context, observe, message } = setup()
    const observer = new Recorder()
    observe('s/+', observer)
    dispatcher.manualObservers = 1
    const acked = vi.fn()
    const nacked = vi.fn()
    dispatcher.message(message('s/1'), acked)
    dispatcher.message(message('s/2'), nacked)
    context.epoch = 2
    observer.handles[0]?.ack()
    observer.handles[1]?.nack('late')
    expect(acked).not.toHaveBeenCalled()
    expect(nacked).not.toHaveBeenCalled()
    expect(context.redeliver).not.toHaveBeenCalled()
  })
})

describe('Dispatcher: routing by MQTT 5 subscription identifier', () => {
  function routed() {
    const registry = new SubscriptionRegistry(10, 'reused')
    const context: DispatchContext = { registry, useIdentifiers: true, epoch: 1, redeliver: vi.fn<DispatchContext['redeliver']>() }
    const dispatcher = new Dispatcher(context, (f) => f(), () => 0)
    const observe = (filter: string): { subscription: BrokerSubscription; observer: Recorder } => {
      const observer = new Recorder()
      const subscription = registry.create(parseFilter(filter))
      subscription.add(observer)
      return { subscription, observer }
    }
    const copy = (topic: string, ids: number | number[]): IncomingMessage => ({ topic, payload: new Uint8Array([1]), qos: 0, retain: false, properties: { subscriptionIdentifier: ids } })
    return { registry, dispatcher, observe, copy }
  }

  it('a copy for a filter released before its UNSUBACK came reaches no one (not the other filters its topic matches)', () => {
    const { registry, dispatcher, observe, copy } = routed()
    const room = observe('rooms/+/temp')
    const kitchen = observe('+/kitchen/temp')
    registry.delete(kitchen.subscription)
    // The broker's copies for both, sent before it took the UNSUBSCRIBE: one each, or one carrying both.
    dispatcher.message(copy('rooms/kitchen/temp', room.subscription.id), () => undefined)
    dispatcher.message(copy('rooms/kitchen/temp', kitchen.subscription.id), () => undefined)
    dispatcher.message(copy('rooms/kitchen/temp', [room.subscription.id, kitchen.subscription.id]), () => undefined)
    expect(room.observer.got).toEqual(['rooms/kitchen/temp', 'rooms/kitchen/temp'])
    expect(kitchen.observer.got).toEqual([])
  })

  it('a copy carrying an identifier shared by filters without wildcards goes to the one whose filter is its topic', () => {
    const { dispatcher, observe, copy } = routed()
    const a = observe('dev/a/state')
    const b = observe('dev/b/state')
    const all = observe('dev/+/state')
    expect(a.subscription.id).toBe(b.subscription.id)
    dispatcher.message(copy('dev/b/state', [b.subscription.id, all.subscription.id]), () => undefined)
    expect([a.observer.got, b.observer.got, all.observer.got]).toEqual([[], ['dev/b/state'], ['dev/b/state']])
  })
})
