// What the SDK keeps per observed filter, on the heap: its records are built to be small, as an app may observe
// ten thousand filters (measured over 50,000, so that what else the process allocates meanwhile averages out).
// An array of one observer or one trie value is made exactly one long: a spread or a push() into an empty array
// gives it a backing store of 17 slots, about 130 B more per filter.
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { describe, expect, it } from 'vitest'
import { BrokerSubscription, type FilterObserver } from '../../lib/subscriptions/broker-subscription.js'
import { TopicTrie } from '../../lib/subscriptions/topic-trie.js'
import { parseFilter } from '../../lib/topic.js'

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
  it('a broker subscription with its one observer: under 230 B (312 B with a 17-slot observers array)', () => {
    const parsed = Array.from({ length: COUNT }, (_, i) => parseFilter(`memory/${i}/+`))
    const bytes = bytesPerItem((i) => {
      const subscription = new BrokerSubscription(parsed[i]!, i + 1, 1_000)
      subscription.add(observer)
      return subscription
    })
    expect(bytes).toBeGreaterThan(50) // it measured something
    console.log(`broker subscription: ${bytes.toFixed(0)} B`)
    expect(bytes).toBeLessThan(230)
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
