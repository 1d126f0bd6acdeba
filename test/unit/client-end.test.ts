// The facade over a FakeLink (no sockets, fake timers): end() re-entered from a status$ observer, a forced end()
// after a graceful one, end() with a manually acknowledged message held, a teardown the app added that throws,
// and observe()/unsubscribe of one filter in a tight loop.
import { config } from 'rxjs'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { Client } from '../../lib/client/client.js'
import { ClientClosedError } from '../../lib/errors.js'
import type { Message } from '../../lib/message.js'
import type { MQTTClientOptions } from '../../lib/options/client-options.js'
import { nodePlatform } from '../../lib/options/endpoints.js'
import type { Status } from '../../lib/status.js'
import { FakeLinks } from '../support/fake-link.js'

function setup(options: Partial<MQTTClientOptions> = {}) {
  const links = new FakeLinks()
  const client = new Client({ url: 'mqtt://a', clientId: 'dev-1', ...options }, { platform: nodePlatform, links: links.create, defer: (f) => f(), debugLogger: () => undefined })
  const statuses: Status[] = []
  let statusCompleted = false
  client.status$.subscribe({ next: (s) => statuses.push(s), complete: () => (statusCompleted = true) })
  return { client, link: links.link, statuses, completed: () => statusCompleted }
}

function track(promise: Promise<unknown>) {
  const t: { state: 'pending' | 'resolved' | 'rejected'; error: unknown } = { state: 'pending', error: undefined }
  promise.then(
    () => (t.state = 'resolved'),
    (error: unknown) => Object.assign(t, { state: 'rejected', error }),
  )
  return t
}

// What the SDK reports as RxJS does (an app's callback or teardown that threw): collected, not thrown.
const reported: unknown[] = []
beforeEach(() => {
  reported.length = 0
  config.onUnhandledError = (e) => void reported.push(e)
  vi.useFakeTimers()
})
afterEach(() => {
  vi.useRealTimers()
  config.onUnhandledError = null
})

describe('the client over a FakeLink: end() re-entered and in every state', () => {
  it('end({ force: true }) from a status$ observer on `connected`: nothing more goes to the link, queued publishes reject, status$ completes', async () => {
    const { client, link, statuses, completed } = setup()
    const queued = track(client.publish('t/a', 'a', { qos: 1 }))
    client.observe('s/#').subscribe()
    let ended: ReturnType<typeof track> | undefined
    client.status$.subscribe((s) => {
      if (s.type === 'connected') ended ??= track(client.end({ force: true }))
    })
    link.accept()
    await vi.advanceTimersByTimeAsync(0)
    expect(ended?.state).toBe('resolved')
    expect(queued.error).toBeInstanceOf(ClientClosedError)
    expect(link.publishes).toEqual([])
    expect(link.subscribes).toEqual([])
    expect(link.closes).toEqual([expect.objectContaining({ force: true })])
    expect(statuses.at(-1)).toEqual({ type: 'closed', error: undefined })
    expect(completed()).toBe(true)
  })

  it('graceful end() from a status$ observer on `connected`: the queued QoS 1 publish goes out, resolves on its PUBACK, then DISCONNECT', async () => {
    const { client, link, statuses } = setup()
    const queued = track(client.publish('t/a', 'a', { qos: 1 }))
    let ended: ReturnType<typeof track> | undefined
    client.status$.subscribe((s) => {
      if (s.type === 'connected') ended ??= track(client.end())
    })
    link.accept()
    expect(link.publishes.map((p) => p.topic)).toEqual(['t/a'])
    link.ack(1)
    await vi.advanceTimersByTimeAsync(0)
    expect(queued.state).toBe('resolved')
    expect(ended?.state).toBe('resolved')
    expect(link.closes).toEqual([expect.objectContaining({ force: false })])
    expect(statuses.at(-1)).toEqual({ type: 'closed', error: undefined })
  })

  it('end() from a status$ observer on `reconnecting`: no further attempt, status$ completes', async () => {
    const { client, link, statuses, completed } = setup({ reconnect: { initialDelay: 100, maxDelay: 100 } })
    link.accept()
    let ended: ReturnType<typeof track> | undefined
    client.status$.subscribe((s) => {
      if (s.type === 'reconnecting') ended ??= track(client.end())
    })
    link.closed()
    await vi.advanceTimersByTimeAsync(1_000)
    expect(ended?.state).toBe('resolved')
    expect(link.opens).toHaveLength(1)
    expect(statuses.at(-1)).toEqual({ type: 'closed', error: undefined })
    expect(completed()).toBe(true)
  })

  it('end({ force: true }) while a graceful end() waits for a PUBACK: the link is closed at once with force (EndOptions.force: "Close the socket at once")', async () => {
    const { client, link } = setup()
    link.accept()
    const unanswered = track(client.publish('t', 'x', { qos: 1 }))
    const graceful = track(client.end({ timeout: 60_000 }))
    const forced = track(client.end({ force: true }))
    await vi.advanceTimersByTimeAsync(10)
    // What happens today: the forced call gets the graceful end's promise, which waits for the PUBACK 59 s more.
    expect({ forced: forced.state, closes: link.closes, publish: unanswered.state }).toEqual({
      forced: 'resolved',
      closes: [{ force: true, timeout: expect.any(Number) }],
      publish: 'rejected',
    })
    await vi.advanceTimersByTimeAsync(60_000)
    expect(graceful.state).toBe('resolved')
  })

  it('graceful end() while an ack: "manual" QoS 1 message is held: its acknowledgement is not sent (the broker must deliver it again)', async () => {
    const { client, link } = setup({ clean: false })
    link.accept()
    const held: Message<Uint8Array>[] = []
    client.observe<Uint8Array>('jobs/+', { qos: 1, ack: 'manual' }).subscribe((m) => held.push(m))
    link.suback('jobs/+', { granted: 1 })
    const done = link.deliver({ topic: 'jobs/1', qos: 1, payload: new TextEncoder().encode('job-1') })
    expect(held).toHaveLength(1)
    expect(done).not.toHaveBeenCalled()
    const ended = track(client.end())
    await vi.advanceTimersByTimeAsync(5_000)
    expect(ended.state).toBe('resolved')
    // `done` lets the link send the PUBACK: the app never acknowledged job-1.
    expect(done).not.toHaveBeenCalled()
  })

  it('a teardown the app added to an observe() subscription throws: end() resolves, every observer completes, the link is closed', async () => {
    const { client, link, statuses, completed } = setup()
    link.accept()
    const done: string[] = []
    client.observe('a/#').subscribe({ complete: () => done.push('a') })
    client.observe('b/#').subscribe({ complete: () => done.push('b') }).add(() => {
      throw new Error('teardown')
    })
    client.observe('c/#').subscribe({ complete: () => done.push('c') })
    const ended = track(client.end())
    await vi.advanceTimersByTimeAsync(5_000)
    expect({ ended: ended.state, error: String(ended.error), completed: done.sort(), closes: link.closes.length, status: statuses.at(-1)?.type, statusCompleted: completed() }).toEqual({
      ended: 'resolved',
      error: 'undefined',
      completed: ['a', 'b', 'c'],
      closes: 1,
      status: 'closed',
      statusCompleted: true,
    })
  })

  it('a teardown the app added throws when a fatal refusal stops the client: pending publishes still reject, status closed, nothing thrown into the link', () => {
    const { client, link, statuses, completed } = setup({ username: 'u', password: 'p' })
    const errored: unknown[] = []
    client.observe('a/#').subscribe({ error: (e: unknown) => errored.push(e) }).add(() => {
      throw new Error('teardown')
    })
    client.observe('b/#').subscribe({ error: (e: unknown) => errored.push(e) })
    const pending = track(client.publish('t', 'x', { qos: 1 }))
    let threw: unknown
    try {
      link.refuse(0x87) // MQTT 5 not authorized: fatal with fixed credentials
    } catch (error) {
      threw = error
    }
    return vi.advanceTimersByTimeAsync(0).then(() => {
      expect({ threw: threw === undefined ? undefined : String(threw), status: statuses.at(-1)?.type, statusCompleted: completed(), publish: pending.state, errored: errored.length }).toEqual({
        threw: undefined,
        status: 'closed',
        statusCompleted: true,
        publish: 'rejected',
        errored: 2,
      })
    })
  })

  it('an observer that unsubscribes in its own handler gets no further message of the ones already buffered; its sibling gets all', () => {
    const { client, link } = setup()
    link.accept()
    const first: string[] = []
    const sibling: string[] = []
    const sub = client.observe<string>('t/#', { codec: 'text' }).subscribe((m) => {
      first.push(m.payload)
      sub.unsubscribe()
    })
    client.observe<string>('t/#', { codec: 'text' }).subscribe((m) => sibling.push(m.payload))
    link.suback('t/#', { granted: 0 })
    for (let i = 0; i < 5; i++) link.deliver({ topic: 't/x', payload: new TextEncoder().encode(`m${i}`) })
    expect(first).toEqual(['m0'])
    expect(sibling).toEqual(['m0', 'm1', 'm2', 'm3', 'm4'])
  })

  it.each([
    ['one packet per filter', false],
    ['subscribeMany/unsubscribeMany', true],
  ])('observe()/unsubscribe 1,000 times in a tight loop (%s), SUBACKs late: the last request on the wire matches what is left', async (_name, many) => {
    for (const leaveOne of [true, false]) {
      const { client, link } = setup()
      if (many) link.enableMany()
      link.accept()
      const order: string[] = []
      const sub1 = link.subscribe.bind(link)
      link.subscribe = (f, o, d) => (order.push(`S ${f}`), sub1(f, o, d))
      const un1 = link.unsubscribe.bind(link)
      link.unsubscribe = (f, d) => (order.push(`U ${f}`), un1(f, d))
      if (many) {
        const sm = link.subscribeMany?.bind(link)
        link.subscribeMany = (subs, d) => (subs.forEach((s) => order.push(`S ${s.filter}`)), sm?.(subs, d))
        const um = link.unsubscribeMany?.bind(link)
        link.unsubscribeMany = (fs, d) => (fs.forEach((f) => order.push(`U ${f}`)), um?.(fs, d))
      }
      for (let i = 0; i < 1_000; i++) client.observe('loop/#', { qos: (i % 3) as 0 | 1 | 2 }).subscribe().unsubscribe()
      const left = leaveOne ? client.observe('loop/#', { qos: 1 }).subscribe() : undefined
      await vi.advanceTimersByTimeAsync(0)
      // Answer everything, in order.
      for (const s of link.subscribes) if (!s.answered) { s.answered = true; s.done({ granted: s.options.qos }) }
      for (const u of link.unsubscribes) u.done(true)
      for (const s of link.subscribeManys) s.done(s.subscriptions.map((x) => ({ granted: x.options.qos })))
      for (const u of link.unsubscribeManys) u.done(true)
      await vi.advanceTimersByTimeAsync(0)
      expect(order.at(-1)?.[0]).toBe(leaveOne ? 'S' : 'U')
      const received: string[] = []
      if (left) {
        client.observe<string>('loop/#', { codec: 'text' }).subscribe((m) => received.push(m.payload))
        link.deliver({ topic: 'loop/x', payload: new TextEncoder().encode('hello') })
        expect(received).toEqual(['hello'])
      }
      left?.unsubscribe()
      void client.end({ force: true })
      await vi.advanceTimersByTimeAsync(0)
    }
  })
})
