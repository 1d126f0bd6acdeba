// What the SDK keeps per observed filter, on the heap: its records are built to be small, as an app may observe
// ten thousand filters (measured over 50,000, so that what else the process allocates meanwhile averages out).
// An array of one trie value is made exactly one long (a spread or a push() into an empty array gives it a backing
// store of 17 slots, about 130 B more per filter); a broker subscription holds its one observer without an array;
// and the whole engine's share of an observed filter (issue 14's budget: 300 B) is measured over a fake link.
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { describe, expect, it } from 'vitest'
import { BrokerSubscription, type FilterObserver } from '../../lib/subscriptions/broker-subscription.js'
import { TopicTrie } from '../../lib/subscriptions/topic-trie.js'
import { parseFilter } from '../../lib/topic.js'
import { Client } from '../../lib/client/client.js'
import { nodePlatform } from '../../lib/options/endpoints.js'
import { FakeLinks } from '../support/fake-link.js'

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void
const liveHeap = (): number => {
  gc()
  gc()
  return process.memoryUsage().heapUsed
}

const COUNT = 50_000

/** Heap bytes per item that `make` builds and the test keeps, over COUNT items (the inputs made beforehand). */
function bytesPerItem(make: (i: number) => unknown): number {
  const keep: unknown[] = new Array(COUNT).fill(undefined)
  const before = liveHeap()
  for (let i = 0; i < COUNT; i++) keep[i] = make(i)
  const after = liveHeap()
  expect(keep.every((item) => item !== undefined)).toBe(true)
  return (after - before) / COUNT
}

const observer: FilterObserver = { qos: 0, next: () => undefined, error: () => undefined, complete: () => undefined }

describe('memory per observed filter', () => {
  it('a broker subscription with its one observer: under 130 B (its one observer held without an array; 184 B with an array of one, 312 B with a 17-slot one)', () => {
    const parsed = Array.from({ length: COUNT }, (_, i) => parseFilter(`memory/${i}/+`))
    const bytes = bytesPerItem((i) => {
      const subscription = new BrokerSubscription(parsed[i]!, i + 1, 1_000)
      subscription.add(observer)
      return subscription
    })
    expect(bytes).toBeGreaterThan(50) // it measured something
    console.log(`broker subscription: ${bytes.toFixed(0)} B`)
    expect(bytes).toBeLessThan(130)
  })

  it('a topic trie leaf holding one value: under 220 B (292 B with a 17-slot values array)', () => {
    const filters = Array.from({ length: COUNT }, (_, i) => `memory/${i}`)
    const trie = new TopicTrie<FilterObserver>()
    const bytes = bytesPerItem((i) => {
      trie.add(filters[i]!, observer)
      return trie
    })
    expect(trie.size).toBe(COUNT)
    expect(bytes).toBeGreaterThan(50)
    console.log(`trie leaf: ${bytes.toFixed(0)} B`)
    expect(bytes).toBeLessThan(220)
  })
})

describe('memory per observed filter, the whole engine', () => {
  it('observe(filter).subscribe(fn), granted by the broker: everything the engine keeps for it, under 280 B (with the link: 300 B, issue 14; the bench measures that)', () => {
    const links = new FakeLinks()
    const client = new Client({ url: 'mqtt://a', clientId: 'memory' }, { platform: nodePlatform, links: links.create, defer: (f) => f(), debugLogger: () => undefined })
    const link = links.link
    link.accept()
    const filters = Array.from({ length: COUNT }, (_, i) => `memory/${i}/+`)
    const noop = (): void => undefined
    const keep: unknown[] = new Array(COUNT).fill(undefined)
    const before = liveHeap()
    for (let i = 0; i < COUNT; i++) keep[i] = client.observe(filters[i]!).subscribe(noop)
    // Granted, as the broker would: the fake link's own record of the calls is not the client's.
    while (link.subscribes.length > 0) for (const call of link.subscribes.splice(0)) call.done({ granted: 0 })
    const bytes = (liveHeap() - before) / COUNT
    expect(keep.every((s) => s !== undefined)).toBe(true)
    console.log(`observed filter, engine: ${bytes.toFixed(0)} B`)
    expect(bytes).toBeGreaterThan(50)
    expect(bytes).toBeLessThan(280)
    void client.end({ force: true })
  })
})
