// The bindings' re-render coalescing: a lone change flushes at the end of its task, a burst flushes its latest
// state once at the end of the frame or interval, stores of one throttle flush together (no torn render),
// `false` flushes every change, and cancel() drops what is pending.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { coalesced } from '../../lib/bindings/coalesced.js'

const tick = () => new Promise<void>((resolve) => queueMicrotask(resolve))

describe('coalesced', () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  it('flushes a lone change at the end of its task, a burst once per interval, two stores together', async () => {
    vi.useFakeTimers()
    const flushed: string[] = []
    const a = coalesced(100, () => flushed.push('a'))
    const b = coalesced(100, () => flushed.push('b'))
    a.changed()
    b.changed()
    expect(flushed).toEqual([])
    await tick()
    expect(flushed).toEqual(['a', 'b'])
    for (let i = 0; i < 50; i++) {
      a.changed()
      b.changed()
    }
    await tick()
    expect(flushed).toEqual(['a', 'b'])
    vi.advanceTimersByTime(100)
    expect(flushed).toEqual(['a', 'b', 'a', 'b'])
    // A quiet window ends the burst; the next change flushes at the end of its task again.
    vi.advanceTimersByTime(100)
    a.changed()
    await tick()
    expect(flushed).toEqual(['a', 'b', 'a', 'b', 'a'])
  })

  it('a flush that throws is reported outside and stops neither the other stores nor later flushes', async () => {
    vi.useFakeTimers()
    const flushed: string[] = []
    const bad = coalesced(30, () => {
      throw new Error('listener failed')
    })
    const good = coalesced(30, () => flushed.push('good'))
    bad.changed()
    good.changed()
    await tick()
    expect(flushed).toEqual(['good'])
    expect(() => vi.advanceTimersToNextTimer()).toThrow('listener failed')
    vi.advanceTimersByTime(100)
    good.changed()
    await tick()
    expect(flushed).toEqual(['good', 'good'])
  })

  it('false flushes every change at once; cancel() drops a pending flush', async () => {
    vi.useFakeTimers()
    let every = 0
    const all = coalesced(false, () => (every += 1))
    for (let i = 0; i < 5; i++) all.changed()
    expect(every).toBe(5)
    let flushes = 0
    const render = coalesced(50, () => (flushes += 1))
    render.changed()
    await tick()
    render.changed()
    render.cancel()
    vi.advanceTimersByTime(200)
    expect(flushes).toBe(1)
  })
})
