// A late observer of a filter whose retained cache is incomplete (overflowed, or a live message dropped an entry),
// over a FakeLink (MQTT 5): two SUBSCRIBEs (Retain Handling 0, then 1 as a fence; Retain As Published off in
// every SUBSCRIBE), the broker's resends to the late observer only, each topic once, and live messages to everyone.
import { describe, expect, it } from 'vitest'
import { Client } from '../../lib/client/client.js'
import type { Message } from '../../lib/message.js'
import { nodePlatform } from '../../lib/options/endpoints.js'
import { FakeLinks } from '../support/fake-link.js'

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text)

function setup(retainedCacheSize = 2) {
  const links = new FakeLinks()
  const client = new Client({ url: 'mqtt://a', clientId: 'dev-1', retainedCacheSize }, { platform: nodePlatform, links: links.create, defer: (f) => f(), debugLogger: () => undefined })
  const link = links.link
  link.accept()
  return { client, link }
}

const seen = (list: Message<string>[]): string[] => list.map((m) => `${m.topic}=${m.payload}${m.retain ? ' (r)' : ''}`)

describe('retained re-ask', () => {
  it('within the cache: replayed at once, no SUBSCRIBE', () => {
    const { client, link } = setup()
    client.observe<string>('a/+', { codec: 'text' }).subscribe()
    link.suback('a/+', { granted: 0 })
    link.deliver({ topic: 'a/1', payload: bytes('1'), retain: true })
    const late: Message<string>[] = []
    client.observe<string>('a/+', { codec: 'text' }).subscribe((m) => late.push(m))
    expect(seen(late)).toEqual(['a/1=1 (r)'])
    expect(link.subscribes).toHaveLength(1)
    expect(link.subscribes[0]?.options.rap).toBeFalsy()
  })

  it('a live message on a cached topic drops it: a late observer gets the new stored value from the broker, once', async () => {
    const { client, link } = setup(10)
    const first: Message<string>[] = []
    client.observe<string>('a/+', { codec: 'text' }).subscribe((m) => first.push(m))
    link.suback('a/+', { granted: 0 })
    link.deliver({ topic: 'a/1', payload: bytes('1'), retain: true })
    link.deliver({ topic: 'a/2', payload: bytes('2'), retain: true })
    // Published retained, forwarded live: the broker clears the flag (Retain As Published off).
    link.deliver({ topic: 'a/1', payload: bytes('1b'), retain: false })
    const late: Message<string>[] = []
    client.observe<string>('a/+', { codec: 'text' }).subscribe((m) => late.push(m))
    await Promise.resolve() // the re-ask goes out once the task is done
    expect(late).toEqual([])
    expect(link.subscribes.slice(1).map((s) => [s.options.rh, s.options.rap ?? false])).toEqual([[0, false], [1, false]])
    link.suback('a/+', { granted: 0 })
    link.deliver({ topic: 'a/1', payload: bytes('1b'), retain: true })
    link.deliver({ topic: 'a/2', payload: bytes('2'), retain: true })
    link.suback('a/+', { granted: 0 })
    expect(seen(late)).toEqual(['a/1=1b (r)', 'a/2=2 (r)'])
    expect(seen(first)).toEqual(['a/1=1 (r)', 'a/2=2 (r)', 'a/1=1b'])
    // The re-ask brought the broker's whole retained state: the next late observer is served from the cache.
    const third: Message<string>[] = []
    client.observe<string>('a/+', { codec: 'text' }).subscribe((m) => third.push(m))
    expect(seen(third)).toEqual(['a/1=1b (r)', 'a/2=2 (r)'])
    expect(link.subscribes).toHaveLength(3)
  })

  it('a late observer that leaves at once (a peek at the cache) asks nothing', async () => {
    const { client, link } = setup(10)
    client.observe<string>('a/+', { codec: 'text' }).subscribe()
    link.suback('a/+', { granted: 0 })
    link.deliver({ topic: 'a/1', payload: bytes('1'), retain: true })
    link.deliver({ topic: 'a/1', payload: bytes('1b'), retain: false })
    client.observe<string>('a/+', { codec: 'text' }).subscribe().unsubscribe()
    await Promise.resolve()
    expect(link.subscribes).toHaveLength(1)
  })

  it('a live message on a topic the cache does not hold leaves it complete: a late observer is served from it', () => {
    const { client, link } = setup(10)
    client.observe<string>('a/+', { codec: 'text' }).subscribe()
    link.suback('a/+', { granted: 0 })
    link.deliver({ topic: 'a/1', payload: bytes('1'), retain: true })
    link.deliver({ topic: 'a/telemetry', payload: bytes('t'), retain: false })
    const late: Message<string>[] = []
    client.observe<string>('a/+', { codec: 'text' }).subscribe((m) => late.push(m))
    expect(seen(late)).toEqual(['a/1=1 (r)'])
    expect(link.subscribes).toHaveLength(1)
  })

  it('an observer joining while the broker resends a complete state gets it from the cache once the fence is answered', async () => {
    const { client, link } = setup(10)
    client.observe<string>('a/+', { codec: 'text' }).subscribe()
    link.suback('a/+', { granted: 0 })
    link.deliver({ topic: 'a/1', payload: bytes('1'), retain: true })
    link.deliver({ topic: 'a/1', payload: bytes('1b'), retain: false })
    const second: Message<string>[] = []
    const third: Message<string>[] = []
    client.observe<string>('a/+', { codec: 'text' }).subscribe((m) => second.push(m))
    await Promise.resolve() // the re-ask goes out once the task is done
    link.suback('a/+', { granted: 0 })
    link.deliver({ topic: 'a/1', payload: bytes('1b'), retain: true })
    client.observe<string>('a/+', { codec: 'text' }).subscribe((m) => third.push(m))
    expect(third).toEqual([])
    link.suback('a/+', { granted: 0 })
    expect(seen(second)).toEqual(['a/1=1b (r)'])
    expect(seen(third)).toEqual(['a/1=1b (r)'])
    expect(link.subscribes).toHaveLength(3)
  })

  it('overflowed: the broker resends to the late observer only, once per topic; live messages reach both', async () => {
    const { client, link } = setup()
    const first: Message<string>[] = []
    client.observe<string>('a/+', { codec: 'text' }).subscribe((m) => first.push(m))
    link.suback('a/+', { granted: 0 })
    for (const i of [1, 2, 3]) link.deliver({ topic: `a/${i}`, payload: bytes(`${i}`), retain: true })
    const late: Message<string>[] = []
    client.observe<string>('a/+', { codec: 'text' }).subscribe((m) => late.push(m))
    await Promise.resolve() // the re-ask goes out once the task is done
    expect(late).toEqual([])
    expect(link.subscribes.slice(1).map((s) => [s.options.rh, s.options.rap ?? false])).toEqual([[0, false], [1, false]])
    // Live before the broker took the re-ask: both get it.
    link.deliver({ topic: 'a/3', payload: bytes('3b'), retain: false })
    link.suback('a/+', { granted: 0 })
    for (const i of [1, 2]) link.deliver({ topic: `a/${i}`, payload: bytes(`${i}`), retain: true })
    link.deliver({ topic: 'a/3', payload: bytes('3b'), retain: true })
    link.deliver({ topic: 'a/3', payload: bytes('3b'), retain: true })
    link.deliver({ topic: 'a/1', payload: bytes('live'), retain: false })
    link.suback('a/+', { granted: 0 })
    // After the fence, resends the broker queued behind live messages: the late observer's, each topic once.
    link.deliver({ topic: 'a/2', payload: bytes('2b'), retain: true })
    link.deliver({ topic: 'a/4', payload: bytes('4'), retain: true })
    // a/3: the live 3b came before its resend, which is older news; a/2: resent already.
    expect(seen(late)).toEqual(['a/3=3b', 'a/1=1 (r)', 'a/2=2 (r)', 'a/1=live', 'a/4=4 (r)'])
    expect(seen(first).slice(3)).toEqual(['a/3=3b', 'a/1=live'])
  })

  it('an observer joining while the broker resends an overflowing state waits for the next re-ask', async () => {
    const { client, link } = setup()
    client.observe<string>('a/+', { codec: 'text' }).subscribe()
    link.suback('a/+', { granted: 0 })
    for (const i of [1, 2, 3]) link.deliver({ topic: `a/${i}`, payload: bytes(`${i}`), retain: true })
    const second: Message<string>[] = []
    const third: Message<string>[] = []
    client.observe<string>('a/+', { codec: 'text' }).subscribe((m) => second.push(m))
    await Promise.resolve() // the re-ask goes out once the task is done
    link.suback('a/+', { granted: 0 })
    link.deliver({ topic: 'a/1', payload: bytes('1'), retain: true })
    client.observe<string>('a/+', { codec: 'text' }).subscribe((m) => third.push(m))
    link.deliver({ topic: 'a/2', payload: bytes('2'), retain: true })
    link.suback('a/+', { granted: 0 })
    expect(link.subscribes).toHaveLength(5)
    link.suback('a/+', { granted: 0 })
    link.deliver({ topic: 'a/1', payload: bytes('1'), retain: true })
    link.suback('a/+', { granted: 0 })
    expect(seen(second)).toEqual(['a/1=1 (r)', 'a/2=2 (r)'])
    expect(seen(third)).toEqual(['a/1=1 (r)'])
  })
})
