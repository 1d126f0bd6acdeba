import { describe, expect, it } from 'vitest'
import { matches } from '../../lib/topic.js'
import { TopicTrie } from '../../lib/subscriptions/topic-trie.js'

const filters = ['a/b', 'a/+', 'a/#', '+/b', '#', '+/+', 'a/b/c', 'a/+/c', '+/#', '$SYS/#', '$SYS/+', 'x', '/+', '+/', 'a//b']
const topics = ['a/b', 'a', 'a/c', 'a/b/c', 'b', 'x', '$SYS/uptime', '$SYS', '/x', 'x/', 'a//b', 'z/b']

describe('TopicTrie', () => {
  it('finds exactly the filters that MQTT matching finds, for every pair', () => {
    const trie = new TopicTrie<string>()
    for (const f of filters) trie.add(f, f)
    for (const t of topics) {
      const expected = filters.filter((f) => matches(f, t)).sort()
      expect(trie.match(t).sort(), t).toEqual(expected)
    }
  })

  it('keeps several values under one filter and removes them one at a time', () => {
    const trie = new TopicTrie<number>()
    trie.add('a/+', 1)
    trie.add('a/+', 2)
    trie.add('a/#', 3)
    expect(trie.match('a/b').sort()).toEqual([1, 2, 3])
    expect(trie.remove('a/+', 1)).toBe(true)
    expect(trie.remove('a/+', 1)).toBe(false)
    expect(trie.match('a/b').sort()).toEqual([2, 3])
    expect(trie.remove('a/#', 3)).toBe(true)
    expect(trie.remove('a/+', 2)).toBe(true)
    expect(trie.size).toBe(0)
    expect(trie.match('a/b')).toEqual([])
    expect(trie.remove('nope/x', 1)).toBe(false)
  })

  it('prunes emptied branches so that churn does not grow it', () => {
    const trie = new TopicTrie<number>()
    for (let i = 0; i < 1_000; i++) trie.add(`devices/${i}/telemetry/+`, i)
    for (let i = 0; i < 1_000; i++) trie.remove(`devices/${i}/telemetry/+`, i)
    expect(trie.size).toBe(0)
    expect((trie as unknown as { root: { children?: Map<string, unknown> } }).root.children?.size ?? 0).toBe(0)
  })

  it('with 10,000 filters, finds the one that matches', () => {
    const trie = new TopicTrie<number>()
    for (let i = 0; i < 10_000; i++) trie.add(`devices/${i}/+`, i)
    expect(trie.match('devices/4711/temp')).toEqual([4711])
    expect(trie.match('devices/10000/temp')).toEqual([])
  })
})
