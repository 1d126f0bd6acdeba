// Subscription identifiers: one byte on the wire where nothing needs them stable (a clean session), the
// same in every client instance where a resumed session's queued messages carry them (a persistent one).
import { describe, expect, it } from 'vitest'
import { FILTERS_PER_IDENTIFIER, SubscriptionRegistry } from '../../lib/subscriptions/subscription-registry.js'
import { parseFilter } from '../../lib/topic.js'

/** Bytes of an MQTT variable byte integer. */
const varintBytes = (n: number): number => (n < 128 ? 1 : n < 16_384 ? 2 : n < 2_097_152 ? 3 : 4)

describe('SubscriptionRegistry identifiers', () => {
  it('clean session: the smallest free ones from 1, so 127 wildcard filters observed at once cost one byte each', () => {
    const registry = new SubscriptionRegistry(10, 'reused')
    const ids = Array.from({ length: 127 }, (_, i) => registry.create(parseFilter(`f/${i}/+`)).id)
    expect(ids[0]).toBe(1)
    expect(new Set(ids).size).toBe(127)
    expect(ids.every((id) => varintBytes(id) === 1)).toBe(true)
    expect(registry.byIdentifier(1_000_000, 'f/1/x')).toBeUndefined()
    expect(registry.stable).toBe(false) // a copy no subscription has is for no one
  })

  it('clean session: a released identifier is given again only once retired (its UNSUBACK came, or a new session began)', () => {
    const registry = new SubscriptionRegistry(10, 'reused')
    for (let i = 0; i < 10; i++) registry.create(parseFilter(`f/${i}/#`))
    const released = registry.get('f/5/#')!
    registry.delete(released)
    expect(registry.byIdentifier(released.id, 'f/5/x')).toBeUndefined()
    // The broker may still send messages with it: a new filter must not get them.
    const meanwhile = registry.create(parseFilter('g/1/#'))
    expect(meanwhile.id).toBe(11)
    registry.retire(meanwhile) // not released: nothing to retire
    registry.retire(released)
    registry.retire(released) // twice: still given once
    const again = registry.create(parseFilter('g/2/#'))
    expect(again.id).toBe(released.id)
    expect(registry.byIdentifier(released.id, 'g/2/x')).toBe(again)
    expect(registry.create(parseFilter('g/3/#')).id).toBe(12)
    // A new session: every identifier left unused is free.
    registry.delete(registry.get('f/1/#')!)
    registry.delete(registry.get('f/2/#')!)
    registry.retire()
    expect([registry.create(parseFilter('h/1/#')).id, registry.create(parseFilter('h/2/#')).id].sort()).toEqual([2, 3])
    expect(registry.create(parseFilter('h/3/#')).id).toBe(13)
  })

  it(`clean session: filters without wildcards share an identifier, ${FILTERS_PER_IDENTIFIER} at most, and a copy carrying it goes to the one whose filter is its topic`, () => {
    const registry = new SubscriptionRegistry(10, 'reused')
    const exact = Array.from({ length: FILTERS_PER_IDENTIFIER + 1 }, (_, i) => registry.create(parseFilter(`dev/${i}/state`)))
    const wildcard = registry.create(parseFilter('dev/+/state'))
    const shared = registry.create(parseFilter('$share/g/dev/0/state'))
    expect(new Set(exact.slice(0, FILTERS_PER_IDENTIFIER).map((s) => s.id))).toEqual(new Set([1]))
    expect(exact.at(-1)!.id).toBe(2)
    expect([wildcard.id, shared.id]).toEqual([3, 4])
    expect(registry.byIdentifier(1, 'dev/42/state')).toBe(exact[42])
    expect(registry.byIdentifier(1, `dev/${FILTERS_PER_IDENTIFIER}/state`)).toBeUndefined() // another identifier's
    expect(registry.byIdentifier(1, 'dev/42/other')).toBeUndefined()
    expect(registry.byIdentifier(3, 'dev/42/state')).toBe(wildcard)
    // The identifier is left unused, and so retired, with its last filter's UNSUBACK only.
    for (const s of exact.slice(0, FILTERS_PER_IDENTIFIER)) registry.delete(s)
    expect(registry.byIdentifier(1, 'dev/42/state')).toBeUndefined()
    registry.retire(exact[0])
    expect(registry.create(parseFilter('dev/x/+')).id).toBe(5)
    registry.retire(exact[FILTERS_PER_IDENTIFIER - 1])
    expect(registry.create(parseFilter('dev/y/+')).id).toBe(1)
    // The shared identifier with room is joined again.
    expect(registry.create(parseFilter('dev/new/state')).id).toBe(2)
  })

  it('counted (a tab towards its hub): count up from 1, never given twice, even when retired', () => {
    const registry = new SubscriptionRegistry(10)
    const ids = Array.from({ length: 5 }, (_, i) => registry.create(parseFilter(`f/${i}`)).id)
    expect(ids).toEqual([1, 2, 3, 4, 5])
    registry.delete(registry.get('f/2')!)
    registry.retire(registry.get('f/3')!)
    registry.retire()
    expect(registry.create(parseFilter('f/2')).id).toBe(6)
    expect(registry.byIdentifier(3)).toBeUndefined()
    expect(registry.byIdentifier(6)?.filter).toBe('f/2')
  })

  it('persistent session: derived from the filter, the same in another instance observing in another order', () => {
    const filters = ['a/+/temp', 'a/#', 'a/other/+']
    const first = new SubscriptionRegistry(10, 'stable')
    const second = new SubscriptionRegistry(10, 'stable')
    const idsFirst = filters.map((f) => first.create(parseFilter(f)).id)
    const idsSecond = [...filters].reverse().map((f) => second.create(parseFilter(f)).id).reverse()
    expect(idsSecond).toEqual(idsFirst)
    expect(new Set(idsFirst).size).toBe(3)
    // A resumed session's queued messages may carry an earlier instance's identifiers: routed by topic.
    expect(first.stable).toBe(true)
  })
})
