// A late observer of a filter whose retained cache overflowed, over a FakeLink (MQTT 5): two SUBSCRIBEs (Retain
// Handling 0 with Retain As Published off, then back on), the broker's resends to the late observer only, each
// topic once, and live messages to everyone.
import { describe, expect, it } from 'vitest'
import { Client } from '../../lib/client/client.js'
import type { Message } from '../../lib/message.js'
import { nodePlatform } from '../../lib/options/endpoints.js'
import { FakeLinks } from '../support/fake-link.js'

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text)

function setup() {
  const links = new FakeLinks()
  const client = new Client({ url: 'mqtt://a', clientId: 'dev-1', retainedCacheSize: 2 }, { platform: nodePlatform, links: links.create, defer: (f) => f(), debugLogger: () => undefined })
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
  })

  it('overflowed: the broker resends to the late observer only, once per topic; live messages reach both', () => {
    const { client, link } = setup()
    const first: Message<string>[] = []
    client.observe<string>('a/+', { codec: 'text' }).subscribe((m) => first.push(m))
    link.suback('a/+', { granted: 0 })
    for (const i of [1, 2, 3]) link.deliver({ topic: `a/${i}`, payload: bytes(`${i}`), retain: true })
    const late: Message<string>[] = []
    client.observe<string>('a/+', { codec: 'text' }).subscribe((m) => late.push(m))
    expect(late).toEqual([])
    expect(link.subscribes.slice(1).map((s) => [s.options.rh, s.options.rap])).toEqual([[0, false], [1, true]])
    // Live and retained before the broker took the re-ask: both get it, and it counts for the late one.
    link.deliver({ topic: 'a/3', payload: bytes('3b'), retain: true })
    link.suback('a/+', { granted: 0 })
    for (const i of [1, 2]) link.deliver({ topic: `a/${i}`, payload: bytes(`${i}`), retain: true })
    link.deliver({ topic: 'a/3', payload: bytes('3b'), retain: true })
    link.deliver({ topic: 'a/1', payload: bytes('live'), retain: false })
    link.suback('a/+', { granted: 0 })
    link.deliver({ topic: 'a/2', payload: bytes('2b'), retain: true })
    expect(seen(late)).toEqual(['a/3=3b (r)', 'a/1=1 (r)', 'a/2=2 (r)', 'a/1=live', 'a/2=2b (r)'])
    expect(seen(first).slice(3)).toEqual(['a/3=3b (r)', 'a/1=live', 'a/2=2b (r)'])
  })

  it('an observer joining while the broker resends waits for the next re-ask', () => {
    const { client, link } = setup()
    client.observe<string>('a/+', { codec: 'text' }).subscribe()
    link.suback('a/+', { granted: 0 })
    for (const i of [1, 2, 3]) link.deliver({ topic: `a/${i}`, payload: bytes(`${i}`), retain: true })
    const second: Message<string>[] = []
    const third: Message<string>[] = []
    client.observe<string>('a/+', { codec: 'text' }).subscribe((m) => second.push(m))
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
