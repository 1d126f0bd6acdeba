// Subscription identifiers: one byte on the wire where nothing needs them stable (a clean session), the
// same in every client instance where a resumed session's queued messages carry them (a persistent one).
import { describe, expect, it } from 'vitest'
import { SubscriptionRegistry } from '../../lib/subscriptions/subscription-registry.js'
import { parseFilter } from '../../lib/topic.js'

/** Bytes of an MQTT variable byte integer. */
const varintBytes = (n: number): number => (n < 128 ? 1 : n < 16_384 ? 2 : n < 2_097_152 ? 3 : 4)

describe('SubscriptionRegistry identifiers', () => {
  it('clean session: count up from 1, never given twice, so 127 filters cost one byte each', () => {
    const registry = new SubscriptionRegistry(10)
    const ids = Array.from({ length: 127 }, (_, i) => registry.create(parseFilter(`f/${i}`)).id)
    expect(ids[0]).toBe(1)
    expect(new Set(ids).size).toBe(127)
    expect(ids.every((id) => varintBytes(id) === 1)).toBe(true)
    const released = registry.get('f/5')!
    registry.delete(released)
    expect(registry.create(parseFilter('f/5')).id).toBe(128)
    expect(registry.byIdentifier(released.id)).toBeUndefined()
  })

  it('persistent session: derived from the filter, the same in another instance observing in another order', () => {
    const filters = ['a/+/temp', 'a/#', 'a/other/+']
    const first = new SubscriptionRegistry(10, true)
    const second = new SubscriptionRegistry(10, true)
    const idsFirst = filters.map((f) => first.create(parseFilter(f)).id)
    const idsSecond = [...filters].reverse().map((f) => second.create(parseFilter(f)).id).reverse()
    expect(idsSecond).toEqual(idsFirst)
    expect(new Set(idsFirst).size).toBe(3)
  })
})
