// The request window: SUBSCRIBEs and UNSUBSCRIBEs in the order asked, a bounded number of packets in flight,
// filters sharing a packet only where they have the same subscription identifier (or none).
import { describe, expect, it } from 'vitest'
import type { LinkEvents, Suback } from '../../lib/link/link.js'
import { FILTERS_PER_PACKET, REQUEST_WINDOW, RequestWindow } from '../../lib/subscriptions/request-window.js'
import { FakeLink } from '../support/fake-link.js'

const events: LinkEvents = { connected: () => undefined, drained: () => undefined, message: () => undefined, failed: () => undefined, closed: () => undefined }

describe('RequestWindow', () => {
  it(`keeps at most ${REQUEST_WINDOW} packets in flight, refills in runs, sends all in order, settles each`, () => {
    const link = new FakeLink(events)
    const window = new RequestWindow(link, undefined)
    const results: Suback[] = []
    for (let i = 0; i < 5_000; i++) window.subscribe(`f/${i}`, i + 1, () => ({ qos: 0, id: i + 1 }), (r) => results.push(r))
    expect(link.subscribes).toHaveLength(REQUEST_WINDOW)
    expect(window.pending).toBe(REQUEST_WINDOW)
    // One answer frees one slot, which waits for a run of them: packets sent together share a socket write.
    link.subscribes[0]?.done({ granted: 0 })
    expect(link.subscribes).toHaveLength(REQUEST_WINDOW)
    for (let answered = 1; answered < 5_000; answered++) {
      const call = link.subscribes[answered]
      if (!call) throw new Error(`request ${answered} was never sent`)
      call.done({ granted: 0 })
      expect(window.pending).toBeLessThanOrEqual(REQUEST_WINDOW)
    }
    expect(link.subscribes.map((s) => s.filter)).toEqual(Array.from({ length: 5_000 }, (_, i) => `f/${i}`))
    expect(link.subscribes.every((s) => s.options.id !== undefined)).toBe(true)
    expect(results).toHaveLength(5_000)
    expect(window.pending).toBe(0)
  })

  it(`puts up to ${FILTERS_PER_PACKET} filters without identifier made in one task in one packet; an UNSUBSCRIBE goes at once, order kept`, async () => {
    const link = new FakeLink(events).enableMany()
    const window = new RequestWindow(link, undefined)
    const done: string[] = []
    for (let i = 0; i < 250; i++) window.subscribe(`a/${i}`, undefined, () => ({ qos: 1 }), () => done.push(`a/${i}`))
    expect(link.subscribeManys).toHaveLength(0)
    await Promise.resolve()
    expect(link.subscribeManys.map((c) => c.subscriptions.length)).toEqual([100, 100, 50])
    window.subscribe('b', undefined, () => ({ qos: 0 }), () => done.push('b'))
    // The UNSUBSCRIBE is on the wire when unsubscribe() returns, after the SUBSCRIBE asked before it.
    window.unsubscribe('a/0', () => done.push('-a/0'))
    expect(link.subscribes.map((s) => s.filter)).toEqual(['b'])
    expect(link.unsubscribes.map((u) => u.filter)).toEqual(['a/0'])
    for (const call of link.subscribeManys) call.done(call.subscriptions.map(() => ({ granted: 1 })))
    link.subscribes[0]?.done({ granted: 0 })
    link.unsubscribes[0]?.done(true)
    expect(done).toEqual([...Array.from({ length: 250 }, (_, i) => `a/${i}`), 'b', '-a/0'])
  })

  it('UNSUBSCRIBEs waiting for room in the window share a packet', () => {
    const link = new FakeLink(events).enableMany()
    const window = new RequestWindow(link, undefined, 1)
    window.subscribe('a', 1, () => ({ qos: 0, id: 1 }), () => undefined)
    for (const f of ['a', 'b', 'c']) window.unsubscribe(f, () => undefined)
    expect(link.unsubscribeManys).toHaveLength(0)
    link.subscribes[0]?.done({ granted: 0 })
    expect(link.unsubscribeManys.map((c) => c.filters)).toEqual([['a', 'b', 'c']])
  })

  it('SUBSCRIBEs share a packet only with the same identifier (or none); one asked to go alone goes in a packet of its own', async () => {
    const link = new FakeLink(events).enableMany()
    const window = new RequestWindow(link, undefined)
    window.subscribe('x', undefined, () => ({ qos: 0 }), () => undefined)
    window.subscribe('y1', 7, () => ({ qos: 0, id: 7 }), () => undefined)
    window.subscribe('y2', 7, () => ({ qos: 1, id: 7 }), () => undefined)
    window.subscribe('v', 8, () => ({ qos: 0, id: 8 }), () => undefined)
    window.subscribe('z', 8, () => ({ qos: 0, id: 8 }), () => undefined, true)
    window.subscribe('w', undefined, () => ({ qos: 0 }), () => undefined)
    await Promise.resolve()
    const packets = [...link.subscribes.map((s) => [[s.filter, s.options.id]]), ...link.subscribeManys.map((c) => c.subscriptions.map((s) => [s.filter, s.options.id]))]
    expect(packets).toEqual(
      expect.arrayContaining([[['x', undefined]], [['y1', 7], ['y2', 7]], [['v', 8]], [['z', 8]], [['w', undefined]]]),
    )
    expect(packets).toHaveLength(5)
  })

  it('prepares each SUBSCRIBE once, as it goes out (a QoS upgrade made while it waited is in it), whatever identifier follows it', async () => {
    const link = new FakeLink(events).enableMany()
    const window = new RequestWindow(link, undefined, 1)
    const prepared: string[] = []
    let qos: 0 | 1 = 0
    const request = (filter: string, id: number) => window.subscribe(filter, id, () => (prepared.push(filter), { qos, id }), () => undefined)
    request('a', 1)
    request('b', 2)
    request('c', 3)
    await Promise.resolve()
    expect(prepared).toEqual(['a'])
    qos = 1
    link.subscribes[0]?.done({ granted: 0 })
    expect(prepared).toEqual(['a', 'b'])
    expect(link.subscribes.map((s) => [s.filter, s.options.qos])).toEqual([['a', 0], ['b', 1]])
  })

  it('limits a packet to the broker maximum packet size', async () => {
    const link = new FakeLink(events).enableMany()
    const window = new RequestWindow(link, 200)
    for (let i = 0; i < 10; i++) window.subscribe(`${'x'.repeat(20)}/${i}`, undefined, () => ({ qos: 0 }), () => undefined)
    await Promise.resolve()
    // (200 - 16) bytes of budget, 3 bytes per UTF-16 unit plus 3: two filters of 22 units per packet.
    expect(link.subscribeManys.map((c) => c.subscriptions.length)).toEqual([2, 2, 2, 2, 2])
  })

  it('an answer that the connection closed frees no slot and sends nothing more; close() returns what was never sent', () => {
    const link = new FakeLink(events)
    const window = new RequestWindow(link, undefined, 2)
    const results: Suback[] = []
    for (const f of ['a', 'b', 'c']) window.subscribe(f, 1, () => ({ qos: 0, id: 1 }), (r) => results.push(r))
    window.unsubscribe('d', () => undefined)
    link.subscribes[0]?.done({ lost: true })
    expect(link.subscribes).toHaveLength(2)
    expect(results).toEqual([{ lost: true }])
    expect(window.close().map((r) => `${r.type} ${r.filter}`)).toEqual(['subscribe c', 'unsubscribe d'])
    const late: boolean[] = []
    window.unsubscribe('e', (ok) => late.push(ok))
    expect(late).toEqual([false])
  })
})
