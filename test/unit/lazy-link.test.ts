// The lazy link (browsers' `link: 'mqttjs'`): before its implementation is loaded it is an attempt under way
// with nothing to send on; once loaded it hands everything on; a failed load is a failed attempt, and the
// next attempt loads again. A fake link stands in for MQTT.js's: this is the wrapper's logic alone.
import { describe, expect, it } from 'vitest'
import { lazyLinks, type BatchingLink } from '../../lib/link/mqttjs/lazy-link.js'
import type { LinkEvents, LinkFailure, LinkSettings, Suback } from '../../lib/link/link.js'

const settings = { clientId: 'lazy-1' } as LinkSettings
const attempt = { endpoint: { url: 'ws://b/', protocol: 'ws', hostname: 'b', port: 80, path: '/' }, protocolVersion: 5, username: undefined, password: undefined, epoch: 1 } as const

function recorder() {
  const failures: LinkFailure[] = []
  let closed = 0
  const events = { connected: () => undefined, drained: () => undefined, message: () => undefined, failed: (f: LinkFailure) => failures.push(f), closed: () => (closed += 1) } as LinkEvents
  return { events, failures, closes: () => closed }
}

function fakeLink(opened: unknown[]): BatchingLink {
  return {
    open: (a) => opened.push(a),
    publish: (_t, _p, _o, done) => (done(), 7),
    withdraw: () => undefined,
    writable: true,
    subscribe: (_f, _o, done) => done({ granted: 1 }),
    subscribeMany: (subs, done) => done(subs.map(() => ({ granted: 1 }))),
    unsubscribe: (_f, done) => done(true),
    unsubscribeMany: (_f, done) => done(true),
    drop: () => undefined,
    close: async () => undefined,
  }
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 0))

describe('lazy links', () => {
  it('before the load: publishes are refused as not connected, requests answered as lost; then everything is handed on', async () => {
    const opened: unknown[] = []
    let release!: (make: (s: LinkSettings, e: LinkEvents) => BatchingLink) => void
    const links = lazyLinks(() => new Promise((resolve) => (release = resolve)))
    const { events } = recorder()
    const link = links(settings, events)
    link.open(attempt)
    const refused: unknown[] = []
    expect(link.publish('t', 'x', { qos: 1, retain: false }, (error) => refused.push(error))).toBeUndefined()
    expect(refused).toEqual([{ message: 'not connected' }])
    const lost: Suback[] = []
    link.subscribe('a/#', { qos: 1 }, (result) => lost.push(result))
    await settle()
    expect(lost).toEqual([{ lost: true }])
    release(() => fakeLink(opened))
    await settle()
    expect(opened).toEqual([attempt]) // the attempt that waited for the load
    expect(link.publish('t', 'x', { qos: 1, retain: false }, () => undefined)).toBe(7)
  })

  it('a failed load is a failed attempt (reported, closed), and the next attempt loads again', async () => {
    const opened: unknown[] = []
    let loads = 0
    const links = lazyLinks(() => (++loads === 1 ? Promise.reject(new Error('chunk failed')) : Promise.resolve(() => fakeLink(opened))))
    const { events, failures, closes } = recorder()
    const link = links(settings, events)
    link.open(attempt)
    await settle()
    expect(failures).toEqual([{ type: 'protocol', message: 'MQTT.js could not be loaded: chunk failed' }])
    expect(closes()).toBe(1)
    link.open(attempt)
    await settle()
    expect(loads).toBe(2)
    expect(opened).toEqual([attempt])
  })

  it('close() before the load ends it: nothing is opened when the implementation arrives', async () => {
    const opened: unknown[] = []
    const links = lazyLinks(() => Promise.resolve(() => fakeLink(opened)))
    const link = links(settings, recorder().events)
    link.open(attempt)
    await link.close({ force: true, timeout: 0 })
    await settle()
    expect(opened).toEqual([])
  })
})
