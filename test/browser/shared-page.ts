// The page of the shared-connection tests: the SDK's `iotpubsub/shared` entry as an app bundles it, and a few
// globals the test drives each tab with. Bundled by the test with esbuild; `lib/shared/index.ts` is resolved
// from the repo.
import { connect, type MQTTClient, type Status } from 'iotpubsub/shared'
import type { Subscription } from 'rxjs'

interface Received {
  readonly topic: string
  readonly payload: string
  readonly retain: boolean
  /** performance.timeOrigin + performance.now(): comparable with Node's clock on the same machine. */
  readonly at: number
}

interface Tab {
  client?: MQTTClient
  statuses: string[]
  received: Received[]
  observers: Map<string, Subscription>
  errors: string[]
  logs: string[]
  debug: string[]
}

const tab: Tab = { statuses: [], received: [], observers: new Map(), errors: [], logs: [], debug: [] }
const since = performance.now()
const stamp = (text: string): string => `${(performance.now() - since).toFixed(0)} ms ${text}`
const logger = {
  // Kept for a failing test's diagnosis (the hub's decisions are debug events), bounded.
  debug: (fields: { event: string }, message: string) => void (tab.debug.length < 500 && tab.debug.push(stamp(`${fields.event}: ${message}`))),
  info: (fields: { event: string }, message: string) => tab.logs.push(`${fields.event}: ${message}`),
  warn: (fields: { event: string }, message: string) => tab.logs.push(`${fields.event}: ${message}`),
  error: (fields: { event: string }, message: string) => tab.logs.push(`${fields.event}: ${message}`),
}
const w = window as unknown as Record<string, unknown>

w.__start = (url: string, options: Record<string, unknown>, withoutLocks = false) => {
  // A browser without Web Locks (or a page that is not a secure context, where they are missing).
  if (withoutLocks) Object.defineProperty(navigator, 'locks', { value: undefined, configurable: true })
  tab.client = connect(url, { ...options, logger })
  tab.client.status$.subscribe((s: Status) => {
    tab.statuses.push(s.type === 'closed' && s.error ? `closed: ${s.error.name}` : s.type)
    tab.debug.push(stamp(`status ${s.type}`))
  })
  tab.client.errors$.subscribe((e) => tab.errors.push(`${e.name}: ${e.message}`))
}
w.__observe = (filter: string, qos: 0 | 1 | 2) => {
  const client = tab.client
  if (!client) throw new Error('not started')
  tab.observers.set(filter, client.observe(filter, { qos, codec: 'text' }).subscribe({
    next: (m) => tab.received.push({ topic: m.topic, payload: m.payload, retain: m.retain, at: performance.timeOrigin + performance.now() }),
    error: (e: Error) => tab.errors.push(`observer ${filter}: ${e.name}: ${e.message}`),
  }))
}
w.__unobserve = (filter: string) => {
  tab.observers.get(filter)?.unsubscribe()
  tab.observers.delete(filter)
}
w.__publish = async (topic: string, payload: string, qos: 0 | 1 | 2) => {
  try {
    await tab.client?.publish(topic, payload, { qos })
    return 'ok'
  } catch (e) {
    return `${(e as Error).name}: ${(e as Error).message}`
  }
}
w.__end = () => tab.client?.end()
w.__state = () => ({ statuses: tab.statuses, received: tab.received, errors: tab.errors, logs: tab.logs, debug: tab.debug, clientId: tab.client?.clientId })
// Whether this tab holds the shared connection: the hub lock's holder is this page (locks name their holder).
w.__holds = async () => {
  const probe = `probe-${Math.random()}`
  return navigator.locks.request(probe, async () => {
    const { held = [] } = await navigator.locks.query()
    const me = held.find((l) => l.name === probe)?.clientId
    return held.some((l) => l.name?.endsWith(':hub') && l.clientId === me)
  })
}
// The page lifecycle's `resume` (headless Chromium cannot freeze a page: the event is what the client hears).
w.__resume = () => document.dispatchEvent(new Event('resume'))
