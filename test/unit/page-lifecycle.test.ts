// The page-lifecycle wiring with a pure source of events (EventTargets standing in for window and document),
// the Worker timers with a scripted Worker, and the client's use of both: listeners gone when it ends.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { Client } from '../../lib/client/client.js'
import { listenToPage, type PageLifecycle, type PageReactions, type PageTarget } from '../../lib/lifecycle/page-lifecycle.js'
import { workerIntervals, type WorkerScope } from '../../lib/lifecycle/worker-intervals.js'
import { nodePlatform } from '../../lib/options/endpoints.js'
import type { MQTTClientOptions } from '../../lib/options/client-options.js'
import { FakeLinks } from '../support/fake-link.js'

/** A window and a document that count their listeners, and whose visibility the test sets. */
class Page implements PageTarget {
  readonly window = new CountingTarget()
  readonly document = Object.assign(new CountingTarget(), { visibilityState: 'visible' })

  get listeners(): number {
    return this.window.count + this.document.count
  }

  show(state: 'visible' | 'hidden'): void {
    this.document.visibilityState = state
    this.document.dispatchEvent(new Event('visibilitychange'))
  }
}

class CountingTarget extends EventTarget {
  count = 0
  override addEventListener(...args: Parameters<EventTarget['addEventListener']>): void {
    this.count += 1
    super.addEventListener(...args)
  }
  override removeEventListener(...args: Parameters<EventTarget['removeEventListener']>): void {
    this.count -= 1
    super.removeEventListener(...args)
  }
}

function reactions() {
  return { online: vi.fn<PageReactions['online']>(), offline: vi.fn<PageReactions['offline']>(), check: vi.fn<PageReactions['check']>() }
}

describe('listenToPage', () => {
  it('online, offline, visible again, resume and a back-forward cache restore each reach their reaction', () => {
    const page = new Page()
    const react = reactions()
    listenToPage(react, page)
    page.window.dispatchEvent(new Event('offline'))
    page.window.dispatchEvent(new Event('online'))
    page.show('hidden')
    page.show('visible')
    page.document.dispatchEvent(new Event('resume'))
    page.window.dispatchEvent(Object.assign(new Event('pageshow'), { persisted: false })) // a first load
    page.window.dispatchEvent(Object.assign(new Event('pageshow'), { persisted: true }))
    expect(react.offline).toHaveBeenCalledTimes(1)
    expect(react.online).toHaveBeenCalledTimes(1)
    expect(react.check.mock.calls).toEqual([['visible'], ['resume'], ['pageshow']])
  })

  it('stopping removes every listener', () => {
    const page = new Page()
    const react = reactions()
    const stop = listenToPage(react, page)
    expect(page.listeners).toBe(5)
    stop()
    stop()
    expect(page.listeners).toBe(0)
    page.window.dispatchEvent(new Event('online'))
    page.show('visible')
    expect(react.online).not.toHaveBeenCalled()
    expect(react.check).not.toHaveBeenCalled()
  })

  it('a worker scope (no document) gets online/offline; no scope at all gets nothing', () => {
    const scope = new CountingTarget()
    const react = reactions()
    const stop = listenToPage(react, { window: scope })
    scope.dispatchEvent(new Event('online'))
    expect(react.online).toHaveBeenCalledTimes(1)
    stop()
    expect(scope.count).toBe(0)
    expect(() => listenToPage(react, undefined)()).not.toThrow()
  })
})

/** A Worker that runs the timers' protocol with the test's fake timers; `refuse` makes the constructor throw. */
function scriptedScope(options: { refuse?: boolean } = {}) {
  const made: ScriptedWorker[] = []
  const revoked: string[] = []
  class ScriptedWorker {
    onmessage: ((event: MessageEvent<number>) => void) | null = null
    onerror: ((event: ErrorEvent) => void) | null = null
    terminated = false
    readonly timers = new Map<number, ReturnType<typeof setInterval>>()
    constructor(readonly url: string) {
      if (options.refuse) throw new DOMException("Failed to construct 'Worker': refused by the Content Security Policy", 'SecurityError')
      made.push(this)
    }
    postMessage([id, ms]: [number, number?]): void {
      if (ms === undefined) {
        clearInterval(this.timers.get(id))
        this.timers.delete(id)
      } else {
        this.timers.set(id, setInterval(() => this.onmessage?.({ data: id } as MessageEvent<number>), ms))
      }
    }
    terminate(): void {
      this.terminated = true
      for (const timer of this.timers.values()) clearInterval(timer)
    }
    /** What a browser does later when a policy refuses the script. */
    fail(): void {
      this.onerror?.({ preventDefault: () => undefined } as ErrorEvent)
    }
  }
  const scope: WorkerScope = {
    Worker: ScriptedWorker as unknown as typeof Worker,
    Blob,
    URL: { createObjectURL: () => 'blob:test/1', revokeObjectURL: (url: string) => void revoked.push(url) },
  }
  return { scope, made, revoked }
}

describe('workerIntervals', () => {
  beforeEach(() => {
    vi.useFakeTimers()
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('runs the intervals in one Worker made on first use from a Blob URL, and ends it on dispose', () => {
    const { scope, made, revoked } = scriptedScope()
    const intervals = workerIntervals(scope)
    expect(made).toHaveLength(0)
    const tick = vi.fn()
    const other = vi.fn()
    const id = intervals.set(tick, 1_000)
    intervals.set(other, 500)
    expect(made).toHaveLength(1)
    expect(revoked).toEqual(['blob:test/1'])
    vi.advanceTimersByTime(2_000)
    expect(tick).toHaveBeenCalledTimes(2)
    expect(other).toHaveBeenCalledTimes(4)
    intervals.clear(id)
    vi.advanceTimersByTime(1_000)
    expect(tick).toHaveBeenCalledTimes(2)
    intervals.dispose()
    expect(made[0]?.terminated).toBe(true)
  })

  it('a Worker the page may not make (thrown at construction): the thread’s own timers, and why', () => {
    const { scope } = scriptedScope({ refuse: true })
    const why = vi.fn()
    const intervals = workerIntervals(scope, why)
    const tick = vi.fn()
    const id = intervals.set(tick, 1_000)
    vi.advanceTimersByTime(3_000)
    expect(tick).toHaveBeenCalledTimes(3) // once per interval, not twice
    expect(why).toHaveBeenCalledWith(expect.stringContaining('SecurityError'))
    intervals.clear(id)
    vi.advanceTimersByTime(3_000)
    expect(tick).toHaveBeenCalledTimes(3)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('a Worker refused later (an error event): the live intervals move to the thread', () => {
    const { scope, made } = scriptedScope()
    const why = vi.fn()
    const intervals = workerIntervals(scope, why)
    const tick = vi.fn()
    intervals.set(tick, 1_000)
    made[0]?.fail()
    expect(made[0]?.terminated).toBe(true)
    expect(why).toHaveBeenCalledTimes(1)
    vi.advanceTimersByTime(2_000)
    expect(tick).toHaveBeenCalledTimes(2)
    intervals.set(vi.fn(), 1_000)
    expect(made).toHaveLength(1) // no second Worker
    intervals.dispose()
    expect(vi.getTimerCount()).toBe(0)
  })

  it('no Worker or Blob on the platform: the thread’s own timers', () => {
    const intervals = workerIntervals({})
    const tick = vi.fn()
    intervals.set(tick, 1_000)
    vi.advanceTimersByTime(1_000)
    expect(tick).toHaveBeenCalledTimes(1)
    intervals.dispose()
    expect(vi.getTimerCount()).toBe(0)
  })
})

describe('Client and the runtime’s lifecycle', () => {
  beforeEach(() => {
    vi.useFakeTimers()
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  function setup(options: Partial<MQTTClientOptions> = {}) {
    const page = new Page()
    const links = new FakeLinks()
    const lifecycle: PageLifecycle = (react) => listenToPage(react, page)
    const client = new Client({ url: 'mqtt://a', clientId: 'dev-1', reconnect: { initialDelay: 20_000, maxDelay: 30_000 }, ...options }, {
      platform: nodePlatform, links: links.create, defer: (f) => f(), debugLogger: () => undefined, lifecycle,
    })
    return { client, page, link: links.link }
  }

  it('the page’s events reach the connection; end() removes the listeners', async () => {
    const { client, page, link } = setup()
    expect(page.listeners).toBe(5)
    link.fail({ type: 'socket', code: 'ECONNREFUSED', message: 'refused' })
    link.closed()
    page.window.dispatchEvent(new Event('online'))
    expect(link.opens).toHaveLength(2)
    link.accept()
    page.window.dispatchEvent(new Event('offline'))
    expect(link.drops).toBe(1)
    await client.end({ force: true })
    expect(page.listeners).toBe(0)
  })

  it('a fatal error removes the listeners too', () => {
    const { page, link } = setup({ reconnect: false })
    link.fail({ type: 'socket', code: 'ECONNREFUSED', message: 'refused' })
    link.closed()
    expect(page.listeners).toBe(0)
  })

  it('pageLifecycle: false listens to nothing', () => {
    const { page } = setup({ pageLifecycle: false })
    expect(page.listeners).toBe(0)
  })
})
