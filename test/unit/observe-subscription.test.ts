// What `observe(filter).subscribe(...)` hands the app: its observer's own record, a real RxJS Subscription,
// with RxJS's contract (callbacks that throw are reported and the stream goes on; an unhandled error is
// reported; the three-callback form; teardowns added to it; operators and Subscribers of another rxjs copy on
// RxJS's own path). Over a FakeLink: the broker's side is the test's.
import { config, firstValueFrom, Subscription, take, UnsubscriptionError } from 'rxjs'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { Client } from '../../lib/client/client.js'
import { ClientClosedError, SubscriptionRejectedError } from '../../lib/errors.js'
import type { Message } from '../../lib/message.js'
import { nodePlatform } from '../../lib/options/endpoints.js'
import { FakeLinks } from '../support/fake-link.js'

function setup() {
  const links = new FakeLinks()
  const client = new Client({ url: 'mqtt://a', clientId: 'dev-1' }, { platform: nodePlatform, links: links.create, defer: (f) => f(), debugLogger: () => undefined })
  const link = links.link
  link.accept()
  return { client, link }
}

/** Errors RxJS (and the SDK, for the app's callbacks) report as unhandled, on a timer. */
function unhandled() {
  const seen: unknown[] = []
  const previous = config.onUnhandledError
  config.onUnhandledError = (error) => seen.push(error)
  return {
    seen,
    restore: () => (config.onUnhandledError = previous),
  }
}

afterEach(() => {
  vi.useRealTimers()
})

describe('observe().subscribe(): the Subscription the app holds', () => {
  it('is an RxJS Subscription: open while subscribed, closed after unsubscribe(), which sends the UNSUBSCRIBE and runs what was added to it', () => {
    const { client, link } = setup()
    const got: string[] = []
    const subscription = client.observe<string>('obs/a', { codec: 'text' }).subscribe((m) => got.push(m.payload))
    expect(subscription).toBeInstanceOf(Subscription)
    expect(subscription.closed).toBe(false)
    const added = vi.fn()
    subscription.add(added)
    link.deliver({ topic: 'obs/a', payload: new TextEncoder().encode('one') })
    expect(got).toEqual(['one'])
    subscription.unsubscribe()
    expect(subscription.closed).toBe(true)
    expect(added).toHaveBeenCalledTimes(1)
    expect(link.unsubscribes.map((u) => u.filter)).toEqual(['obs/a'])
    link.deliver({ topic: 'obs/a', payload: new TextEncoder().encode('two') })
    expect(got).toEqual(['one'])
    subscription.unsubscribe()
    expect(link.unsubscribes).toHaveLength(1)
  })

  it('a teardown added to it that throws: unsubscribe() throws UnsubscriptionError, as RxJS does, and the UNSUBSCRIBE still goes out', () => {
    const { client, link } = setup()
    const subscription = client.observe('obs/teardown').subscribe(() => undefined)
    const after = vi.fn()
    subscription.add(() => {
      throw new Error('teardown failed')
    })
    subscription.add(after)
    expect(() => subscription.unsubscribe()).toThrow(UnsubscriptionError)
    expect(after).toHaveBeenCalledTimes(1)
    expect(subscription.closed).toBe(true)
    expect(link.unsubscribes.map((u) => u.filter)).toEqual(['obs/teardown'])
  })

  it('a callback that throws is reported as RxJS reports it (config.onUnhandledError, on a timer), and the next message still comes', () => {
    vi.useFakeTimers()
    const { client, link } = setup()
    const reports = unhandled()
    try {
      const got: number[] = []
      const boom = new Error('render failed')
      client.observe<Uint8Array>('obs/throw').subscribe((m) => {
        got.push(m.payload.length)
        if (got.length === 1) throw boom
      })
      link.deliver({ topic: 'obs/throw', payload: new Uint8Array(1) })
      expect(reports.seen).toEqual([]) // not thrown into the library's stack
      link.deliver({ topic: 'obs/throw', payload: new Uint8Array(2) })
      expect(got).toEqual([1, 2])
      vi.runAllTimers()
      expect(reports.seen).toEqual([boom])
    } finally {
      reports.restore()
    }
  })

  it('an error goes to the error callback of the three-callback form and of an observer, and closes the Subscription', () => {
    const { client, link } = setup()
    const errors: unknown[] = []
    const completes = vi.fn()
    const a = client.observe('obs/refused').subscribe(undefined, (e) => errors.push(e), completes)
    const b = client.observe('obs/refused').subscribe({ error: (e) => errors.push(e) })
    link.suback('obs/refused', { refused: 0x87 })
    expect(errors).toHaveLength(2)
    expect(errors.every((e) => e instanceof SubscriptionRejectedError)).toBe(true)
    expect([a.closed, b.closed]).toEqual([true, true])
    expect(completes).not.toHaveBeenCalled()
  })

  it('an error nobody handles is reported as unhandled, never thrown at the library', () => {
    vi.useFakeTimers()
    const { client, link } = setup()
    const reports = unhandled()
    try {
      const subscription = client.observe('obs/unhandled').subscribe(() => undefined)
      link.suback('obs/unhandled', { refused: 0x87 })
      expect(subscription.closed).toBe(true)
      vi.runAllTimers()
      expect(reports.seen).toHaveLength(1)
      expect(reports.seen[0]).toBeInstanceOf(SubscriptionRejectedError)
    } finally {
      reports.restore()
    }
  })

  it('complete() reaches the observer when the client ends; observing an ended client errors at once with ClientClosedError', async () => {
    const { client } = setup()
    const complete = vi.fn()
    const subscription = client.observe('obs/end').subscribe({ complete })
    await client.end({ force: true })
    expect(complete).toHaveBeenCalledTimes(1)
    expect(subscription.closed).toBe(true)
    const error = vi.fn()
    const late = client.observe('obs/end').subscribe({ error })
    expect(error.mock.calls[0]?.[0]).toBeInstanceOf(ClientClosedError)
    expect(late.closed).toBe(true)
  })

  it('an unsubscribe() from inside the callback stops delivery at once', () => {
    const { client, link } = setup()
    const got: number[] = []
    const subscription: Subscription = client.observe<Uint8Array>('obs/self').subscribe((m) => {
      got.push(m.payload.length)
      subscription.unsubscribe()
    })
    link.deliver({ topic: 'obs/self', payload: new Uint8Array(1) })
    link.deliver({ topic: 'obs/self', payload: new Uint8Array(2) })
    expect(got).toEqual([1])
    expect(link.unsubscribes.map((u) => u.filter)).toEqual(['obs/self'])
  })

  it('under operators, the Subscriber tears the observer down: take(1) unsubscribes after one message', async () => {
    const { client, link } = setup()
    const first = firstValueFrom(client.observe<string>('obs/op', { codec: 'text' }))
    const taken: string[] = []
    client.observe<string>('obs/op', { codec: 'text' }).pipe(take(1)).subscribe((m) => taken.push(m.payload))
    link.deliver({ topic: 'obs/op', payload: new TextEncoder().encode('x') })
    expect(((await first) as Message<string>).payload).toBe('x')
    expect(taken).toEqual(['x'])
    expect(link.unsubscribes.map((u) => u.filter)).toEqual(['obs/op'])
  })

  it("a Subscriber of another rxjs copy (duck-typed, as RxJS does) gets the observer as its teardown", () => {
    const { client, link } = setup()
    const teardowns: Subscription[] = []
    const got: unknown[] = []
    const foreign = {
      closed: false,
      next: (m: unknown) => got.push(m),
      error: () => undefined,
      complete: () => undefined,
      add: (t: Subscription) => void teardowns.push(t),
      remove: () => undefined,
      unsubscribe() {
        this.closed = true
        for (const t of teardowns) t.unsubscribe()
      },
    }
    client.observe('obs/foreign').subscribe(foreign)
    link.deliver({ topic: 'obs/foreign', payload: new Uint8Array(1) })
    expect(got).toHaveLength(1)
    expect(teardowns).toHaveLength(1)
    foreign.unsubscribe()
    expect(link.unsubscribes.map((u) => u.filter)).toEqual(['obs/foreign'])
  })
})
