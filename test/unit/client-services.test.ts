// serve() and route() while their code loads on demand (lib/services/on-demand.ts), against a fake client whose
// observe() is a Subject per filter: what holds before the load, after it, and when it fails.
import { BehaviorSubject, Observable, Subject } from 'rxjs'
import { describe, expect, it } from 'vitest'
import { ClientServices, type Services } from '../../lib/client/client-services.js'
import { InvalidTopicError } from '../../lib/errors.js'
import type { Message } from '../../lib/message.js'
import type { ObserveOptions, PublishOptions } from '../../lib/options/client-options.js'
import { parseFilter } from '../../lib/topic.js'
import type { Status } from '../../lib/status.js'
import type { SubscriptionInfo } from '../../lib/subscriptions/broker-subscription.js'

/** A load the test settles by hand: `resolve()` hands on the real module, `reject()` fails it. */
interface Load {
  resolve(): void
  reject(error: Error): void
}

class FakeClient extends ClientServices {
  readonly clientId = 'fake'
  readonly status$ = new BehaviorSubject<Status>({ type: 'connecting', url: 'ws://fake' })
  readonly subscriptions$ = new BehaviorSubject<readonly SubscriptionInfo[]>([])
  readonly requests = new Map<string, Subject<Message<unknown>>>()
  /** Filters observed and still subscribed. */
  readonly live = new Set<string>()
  readonly published: Array<{ topic: string; payload: unknown }> = []
  readonly loads: Load[] = []

  protected get closed(): boolean {
    return false
  }

  protected get replyTopicPrefix(): string {
    return 'reply'
  }

  observe<T>(filter: string, _options?: ObserveOptions<T>): Observable<Message<T>> {
    parseFilter(filter) // throws InvalidTopicError at once, as the client's does
    const subject = this.requests.get(filter) ?? new Subject<Message<unknown>>()
    this.requests.set(filter, subject)
    return new Observable<Message<T>>((subscriber) => {
      this.live.add(filter)
      const inner = subject.subscribe({ next: (m) => subscriber.next(m as Message<T>), error: (error: unknown) => subscriber.error(error) })
      return () => {
        inner.unsubscribe()
        this.live.delete(filter)
      }
    })
  }

  publish<T = unknown>(topic: string, payload: T, _options?: PublishOptions<T>): Promise<void> {
    this.published.push({ topic, payload })
    return Promise.resolve()
  }

  protected override importServices(): Promise<Services> {
    return new Promise<Services>((resolve, reject) => {
      this.loads.push({ resolve: () => void import('../../lib/services/on-demand.js').then(resolve), reject })
    })
  }

  /** Settles the load waiting, then lets its callbacks run. */
  async settle(how: 'resolve' | 'reject'): Promise<void> {
    const load = this.loads.shift()
    if (!load) throw new Error('no load is waiting')
    if (how === 'resolve') load.resolve()
    else load.reject(new Error('Failed to fetch dynamically imported module'))
    await until(() => true)
  }

  request$(filter: string, payload: string): void {
    const raw = new TextEncoder().encode(payload)
    const properties = { responseTopic: 'reply/to', correlationData: new Uint8Array([1]) }
    this.requests.get(filter)?.next({ topic: filter, payload: raw, raw, qos: 1, retain: false, params: [], properties, ack: () => undefined, nack: () => undefined })
  }
}

/** Waits for `condition` across macrotasks (dynamic imports settle in a later task), failing after 2 s. */
async function until(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 2_000
  do await new Promise((resolve) => setImmediate(resolve))
  while (!condition() && Date.now() < deadline)
  expect(condition()).toBe(true)
}

describe('services loaded on demand', () => {
  it('serve() checks its filter at once, before any load', () => {
    const client = new FakeClient()
    expect(() => client.serve('a/#/b', () => 'x')).toThrow(InvalidTopicError)
    expect(client.loads).toHaveLength(0)
  })

  it('serve() before the load: an open Subscription, which serves once the code is there', async () => {
    const client = new FakeClient()
    const serving = client.serve('rpc/ping', () => 'pong')
    expect(serving.closed).toBe(false)
    expect(client.live.has('rpc/ping')).toBe(false)
    await client.settle('resolve')
    await until(() => client.live.has('rpc/ping'))
    client.request$('rpc/ping', 'ping?')
    await until(() => client.published.length === 1)
    expect(client.published[0]).toEqual({ topic: 'reply/to', payload: 'pong' })
    serving.unsubscribe()
    expect(client.live.has('rpc/ping')).toBe(false)
    // Loaded: the next serve() subscribes in its own call, with no load.
    client.serve('rpc/other', () => 'ok')
    expect(client.live.has('rpc/other')).toBe(true)
    expect(client.loads).toHaveLength(0)
  })

  it('serve() unsubscribed before the load never subscribes', async () => {
    const client = new FakeClient()
    const serving = client.serve('rpc/ping', () => 'pong')
    serving.unsubscribe()
    await client.settle('resolve')
    expect(client.live.has('rpc/ping')).toBe(false)
  })

  it('a failed load ends serving (its teardowns run), and the next call loads again', async () => {
    const client = new FakeClient()
    const serving = client.serve('rpc/ping', () => 'pong')
    let tornDown = false
    serving.add(() => (tornDown = true))
    await client.settle('reject')
    expect(serving.closed).toBe(true)
    expect(tornDown).toBe(true)
    const again = client.serve('rpc/ping', () => 'pong')
    expect(client.loads).toHaveLength(1)
    await client.settle('resolve')
    await until(() => client.live.has('rpc/ping'))
    again.unsubscribe()
  })

  it('serving that ends by itself closes the Subscription the caller holds', async () => {
    const client = new FakeClient()
    const serving = client.serve('rpc/ping', () => 'pong')
    await client.settle('resolve')
    await until(() => client.live.has('rpc/ping'))
    client.requests.get('rpc/ping')?.error(new Error('subscription refused'))
    expect(serving.closed).toBe(true)
  })

  it('route() with a pattern that is not a route errors when subscribed, before the load and after it', async () => {
    const client = new FakeClient()
    const before = client.route('rooms/{room')
    expect(client.loads).toHaveLength(0)
    const errors: unknown[] = []
    before.subscribe({ error: (error: unknown) => errors.push(error) })
    await client.settle('resolve')
    await until(() => errors.length === 1)
    expect(errors[0]).toBeInstanceOf(InvalidTopicError)
    client.route('rooms/{room').subscribe({ error: (error: unknown) => errors.push(error) })
    expect(errors[1]).toBeInstanceOf(InvalidTopicError)
  })

  it('route() before the load: named params once loaded; unsubscribing before the load subscribes nothing', async () => {
    const client = new FakeClient()
    const early = client.route('rooms/{room}').subscribe()
    early.unsubscribe()
    const params: unknown[] = []
    const sub = client.route('rooms/{room}', { codec: 'text' }).subscribe((m) => params.push(m.params))
    await client.settle('resolve')
    await until(() => client.live.has('rooms/+'))
    const raw = new TextEncoder().encode('21')
    client.requests.get('rooms/+')?.next({ topic: 'rooms/kitchen', payload: '21', raw, qos: 0, retain: false, params: ['kitchen'], properties: undefined, ack: () => undefined, nack: () => undefined })
    expect(params).toEqual([{ room: 'kitchen' }])
    sub.unsubscribe()
    expect(client.live.has('rooms/+')).toBe(false)
  })

  it('a failed load is the route observable error', async () => {
    const client = new FakeClient()
    const errors: unknown[] = []
    client.route('rooms/{room}').subscribe({ error: (error: unknown) => errors.push(error) })
    await client.settle('reject')
    expect(errors).toHaveLength(1)
    expect(String(errors[0])).toMatch(/Failed to fetch/)
  })
})
