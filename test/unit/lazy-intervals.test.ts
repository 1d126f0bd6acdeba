// Interval timers whose code loads on demand (a browser's Worker timers): the thread's own timers until the
// load, moved over after it, kept where it fails; nothing runs after dispose().
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { lazyIntervals } from '../../lib/lifecycle/lazy-intervals.js'
import type { Intervals } from '../../lib/link/sign-of-life.js'

/** Intervals on the fake clock that say which timers they run. */
function loadedIntervals() {
  const running = new Map<number, ReturnType<typeof setInterval>>()
  let next = 0
  const intervals: Intervals & { running: Map<number, ReturnType<typeof setInterval>>; disposed: boolean } = {
    running,
    disposed: false,
    set(callback, ms) {
      const id = (next += 1)
      running.set(id, setInterval(callback, ms))
      return id
    },
    clear(id) {
      clearInterval(running.get(id as number))
      running.delete(id as number)
    },
    dispose() {
      intervals.disposed = true
    },
  }
  return intervals
}

beforeEach(() => {
  vi.useFakeTimers()
})
afterEach(() => {
  vi.useRealTimers()
})

describe('lazyIntervals', () => {
  it("runs on the thread's timers until the load, then moves every live timer over; clear() reaches wherever it runs", async () => {
    const loaded = loadedIntervals()
    let finish!: (intervals: Intervals) => void
    const intervals = lazyIntervals(() => new Promise((resolve) => (finish = resolve)))
    const ticks = { a: 0, b: 0 }
    const a = intervals.set(() => (ticks.a += 1), 100)
    const b = intervals.set(() => (ticks.b += 1), 100)
    vi.advanceTimersByTime(250)
    expect(ticks).toEqual({ a: 2, b: 2 })
    intervals.clear(b)
    finish(loaded)
    await vi.advanceTimersByTimeAsync(0)
    expect(loaded.running.size).toBe(1) // a moved over; b was cleared before
    vi.advanceTimersByTime(300)
    expect(ticks).toEqual({ a: 5, b: 2 }) // once each tick: the thread's timer is gone
    intervals.clear(a)
    expect(loaded.running.size).toBe(0)
    vi.advanceTimersByTime(300)
    expect(ticks.a).toBe(5)
    const c = intervals.set(() => (ticks.b += 1), 100)
    expect(loaded.running.size).toBe(1)
    intervals.dispose()
    expect(loaded.disposed).toBe(true)
    expect(c).toBeDefined()
  })

  it("a load that fails leaves the timers on the thread's own, and dispose() clears them", async () => {
    const intervals = lazyIntervals(() => Promise.reject(new Error('offline')))
    let ticks = 0
    intervals.set(() => (ticks += 1), 100)
    await vi.advanceTimersByTimeAsync(250)
    expect(ticks).toBe(2)
    intervals.dispose()
    vi.advanceTimersByTime(500)
    expect(ticks).toBe(2)
  })

  it('disposed before the load: the loaded timers are disposed at once and never run anything', async () => {
    const loaded = loadedIntervals()
    let finish!: (intervals: Intervals) => void
    const intervals = lazyIntervals(() => new Promise((resolve) => (finish = resolve)))
    let ticks = 0
    intervals.set(() => (ticks += 1), 100)
    intervals.dispose()
    finish(loaded)
    await vi.advanceTimersByTimeAsync(500)
    expect(ticks).toBe(0)
    expect(loaded.disposed).toBe(true)
    expect(loaded.running.size).toBe(0)
  })
})
