// The page of the shared-connection tab tests (shared-tabs, shared-end, shared-store-handover,
// shared-welcome-first): `iotpubsub/shared` as an app bundles it, with globals the test drives each tab with.
// It also records what this page hears on the hub's channel (test instrumentation: it tells the test that the
// holding tab has a follower's publish).
import { connect, indexedDbStore, type MQTTClient, type Status } from 'iotpubsub/shared'
import type { Subscription } from 'rxjs'

const w = window as unknown as Record<string, unknown>
const heardAtHub: { t: string; tab?: string; topic?: string; id?: number }[] = []
const Original = BroadcastChannel
// While `holdAll` is set, what a client hears on the hub's announcement channel (`<group>:all`) waits, in order:
// the ordering BroadcastChannel allows across channels (shared-client.ts: the 'hub' announcement and the new
// hub's welcome "come on different channels, in either order").
let holdAll = false
const heldAll: (() => void)[] = []
w.__holdAll = () => void (holdAll = true)
w.__releaseAll = () => {
  holdAll = false
  for (const deliver of heldAll.splice(0)) deliver()
}
class Recording extends Original {
  constructor(name: string) {
    super(name)
    if (name.endsWith(':all')) {
      let handler: ((event: MessageEvent) => void) | null = null
      Object.defineProperty(this, 'onmessage', {
        get: () => handler,
        set: (h: ((event: MessageEvent) => void) | null) => void (handler = h),
      })
      this.addEventListener('message', (event: MessageEvent) => {
        if (holdAll) heldAll.push(() => handler?.call(this, event))
        else handler?.call(this, event)
      })
    }
    if (name.endsWith(':hub')) {
      this.addEventListener('message', (event: MessageEvent) => {
        const m = event.data as { t: string; tab?: string; publish?: { topic: string; id: number } }
        heardAtHub.push({ t: m?.t, tab: m?.tab, topic: m?.publish?.topic, id: m?.publish?.id })
      })
    }
  }
}
;(globalThis as { BroadcastChannel: unknown }).BroadcastChannel = Recording

let client: MQTTClient | undefined
const statuses: string[] = []
const received: { topic: string; payload: string; retain: boolean }[] = []
const observers = new Map<string, Subscription>()
const errors: string[] = []
const results: Record<string, string> = {}
const logs: string[] = []
let subscriptions: unknown = undefined
const say = (e: unknown): string => `${(e as Error).name}: ${(e as Error).message}`
const logger = {
  debug: () => undefined,
  info: (f: { event: string }, m: string) => void logs.push(`${f.event}: ${m}`),
  warn: (f: { event: string }, m: string) => void logs.push(`${f.event}: ${m}`),
  error: (f: { event: string }, m: string) => void logs.push(`${f.event}: ${m}`),
}

const outbox: string[] = []
w.__start = (url: string, options: Record<string, unknown>, store?: string) => {
  client = connect(url, { ...options, logger, ...(store ? { store: indexedDbStore(store) } : {}) })
  client.outbox$.subscribe((e) => void outbox.push(`${e.id} ${e.state}`))
  client.status$.subscribe({
    next: (s: Status) => void statuses.push(s.type === 'closed' && s.error ? `closed: ${s.error.name}` : s.type),
    complete: () => void statuses.push('complete'),
  })
  client.errors$.subscribe((e) => void errors.push(say(e)))
  client.subscriptions$.subscribe((list) => (subscriptions = list))
}
w.__observe = (filter: string, qos: 0 | 1 | 2) => {
  if (!client) throw new Error('not started')
  observers.set(filter, client.observe(filter, { qos, codec: 'text' }).subscribe({
    next: (m) => void received.push({ topic: m.topic, payload: m.payload, retain: m.retain }),
    error: (e: Error) => void errors.push(`observer ${filter}: ${say(e)}`),
    complete: () => void errors.push(`observer ${filter}: complete`),
  }))
}
w.__unobserve = (filter: string) => {
  observers.get(filter)?.unsubscribe()
  observers.delete(filter)
}
w.__publish = (key: string, topic: string, payload: string, qos: 0 | 1 | 2, options: Record<string, unknown> = {}) => {
  if (!client) throw new Error('not started')
  results[key] = 'pending'
  client.publish(topic, payload, { qos, ...options }).then(() => (results[key] = 'ok'), (e) => (results[key] = say(e)))
}
w.__end = async (options: Record<string, unknown> = {}) => {
  try {
    await client?.end(options)
    return 'ended'
  } catch (e) {
    return say(e)
  }
}
w.__state = () => ({ outbox, statuses, received, errors, results, logs, heardAtHub, subscriptions, clientId: client?.clientId })
w.__holds = async () => {
  const probe = `probe-${Math.random()}`
  return navigator.locks.request(probe, async () => {
    const { held = [] } = await navigator.locks.query()
    const me = held.find((l) => l.name === probe)?.clientId
    return held.some((l) => l.name?.endsWith(':hub') && l.clientId === me)
  })
}
// publish(), then end(), then publish() again, in one task: what each publish's promise says, and end()'s.
w.__publishAroundEnd = (topic: string) => {
  if (!client) throw new Error('not started')
  const settle = (key: string, promise: Promise<void>): void => {
    results[key] = 'pending'
    promise.then(() => (results[key] = 'ok'), (e) => (results[key] = say(e)))
  }
  settle('before-end', client.publish(topic, 'before-end', { qos: 1 }))
  settle('end', client.end())
  settle('after-end', client.publish(topic, 'after-end', { qos: 1 }))
}
