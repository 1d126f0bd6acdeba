// Errors thrown by user code: an observer's `next`, a codec's `decode` (also throwing something that is not an
// Error), a logger whose methods throw, a credentials
// provider that throws synchronously. None may crash the process, stop other observers, or keep end() from
// resolving.
import { config } from 'rxjs'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ConnectionRefusedError, type Message, type Status } from '../../lib/node.js'
import { testBed } from '../support/bed.js'
import { noMosquitto } from '../support/binaries.js'
import { waitForStatus, outcome } from '../support/clients.js'
import { escapes } from '../support/escapes.js'
import { rawClient } from '../support/raw.js'
import { uniquePrefix, waitFor } from '../support/wait.js'

const throwingLogger = {
  trace: () => { throw new Error('logger trace') },
  debug: () => { throw new Error('logger debug') },
  info: () => { throw new Error('logger info') },
  warn: () => { throw new Error('logger warn') },
  error: () => { throw new Error('logger error') },
}

describe.skipIf(noMosquitto())('errors thrown by user code', () => {
  const bed = testBed('user-errors')
  const { thrown } = escapes()
  // Handler errors are reported as RxJS reports them (config.onUnhandledError, else thrown on a timer): the
  // tests collect them there, and check that they are the app's own errors and nothing else.
  const reported: unknown[] = []
  beforeEach(() => {
    reported.length = 0
    config.onUnhandledError = (e) => void reported.push(e)
  })
  afterEach(() => {
    config.onUnhandledError = null
  })

  async function setup(name: string, options: Parameters<typeof bed.pool.connected>[1] = {}) {
    const broker = await bed.broker()
    const p = uniquePrefix(name)
    const client = await bed.pool.connected(broker.tcpUrl, options)
    const raw = await rawClient(broker.tcpUrl)
    /** Publishes `payload` until `done()` says it arrived (the first ones may precede the SUBSCRIBE). */
    const publishUntil = (topic: string, payload: string | Buffer, done: () => boolean) =>
      waitFor(async () => {
        await raw.publishAsync(topic, payload, { qos: 1 })
        return done()
      }, `${topic} delivered`, 5_000)
    return { broker, p, client, raw, publishUntil }
  }

  it('an observer whose next throws: siblings of the same filter and of other filters get every message, the thrower keeps getting them', async () => {
    const { p, client, raw, publishUntil } = await setup('ue-next')
    try {
      const thrower: string[] = []
      const sibling: string[] = []
      const other: string[] = []
      client.observe(`${p}/x`, { qos: 1, codec: 'text' }).subscribe((m: Message<string>) => {
        thrower.push(m.payload)
        throw new Error(`handler ${m.payload}`)
      })
      client.observe(`${p}/x`, { qos: 1, codec: 'text' }).subscribe((m: Message<string>) => sibling.push(m.payload))
      client.observe(`${p}/#`, { qos: 1, codec: 'text' }).subscribe((m: Message<string>) => other.push(m.payload))
      await publishUntil(`${p}/x`, 'first', () => sibling.includes('first') && other.includes('first') && thrower.includes('first'))
      for (let i = 0; i < 10; i++) await raw.publishAsync(`${p}/x`, `m${i}`, { qos: 1 })
      await waitFor(() => sibling.includes('m9') && other.includes('m9') && thrower.includes('m9'), 'm9 everywhere', 5_000)
      expect(sibling.filter((m) => m !== 'first')).toEqual(Array.from({ length: 10 }, (_, i) => `m${i}`))
      expect(thrower.filter((m) => m !== 'first')).toEqual(Array.from({ length: 10 }, (_, i) => `m${i}`))
      await waitFor(() => reported.length >= thrower.length, 'the handler errors reported', 5_000)
      expect(reported.every((e) => e instanceof Error && e.message.startsWith('handler '))).toBe(true)
      expect(client.status$).toBeDefined()
      expect((await waitForStatus(client, 'connected')).type).toBe('connected')
    } finally {
      raw.end(true)
    }
    expect(thrown).toEqual([])
  })

  it('a codec whose decode throws an Error: DecodeError on errors$, the stream and siblings go on', async () => {
    const { p, client, raw, publishUntil } = await setup('ue-decode')
    try {
      const errors: unknown[] = []
      client.errors$.subscribe((e) => errors.push(e))
      const decoded: string[] = []
      const sibling: string[] = []
      const codec = { encode: (v: string) => v, decode: (b: Uint8Array) => { const s = new TextDecoder().decode(b); if (s.startsWith('bad')) throw new Error('bad payload'); return s } }
      client.observe(`${p}/x`, { qos: 1, codec }).subscribe((m: Message<string>) => decoded.push(m.payload))
      client.observe(`${p}/x`, { qos: 1, codec: 'text' }).subscribe((m: Message<string>) => sibling.push(m.payload))
      await publishUntil(`${p}/x`, 'first', () => decoded.includes('first'))
      await raw.publishAsync(`${p}/x`, 'bad-1', { qos: 1 })
      await raw.publishAsync(`${p}/x`, 'good', { qos: 1 })
      await waitFor(() => decoded.includes('good') && sibling.includes('good'), 'good', 5_000)
      expect(decoded.filter((d) => d.startsWith('bad'))).toEqual([])
      expect(sibling).toContain('bad-1')
      expect(errors.map((e) => (e as Error).name)).toEqual(['DecodeError'])
    } finally {
      raw.end(true)
    }
    expect(thrown).toEqual([])
  })

  it.each([
    ['an object without a prototype', () => Object.create(null) as unknown],
    ['an object whose toString throws', () => ({ toString: () => { throw new Error('toString') } })],
  ])('a codec whose decode throws %s: no escape, the connection and the siblings go on', async (_name, make) => {
    const { p, client, raw, publishUntil } = await setup('ue-decode-odd')
    try {
      const errors: unknown[] = []
      client.errors$.subscribe((e) => errors.push(e))
      const sibling: string[] = []
      const statuses: Status[] = []
      client.status$.subscribe((s) => statuses.push(s))
      const codec = { encode: (v: string) => v, decode: (b: Uint8Array) => { const s = new TextDecoder().decode(b); if (s.startsWith('bad')) throw make(); return s } }
      client.observe(`${p}/x`, { qos: 1, codec }).subscribe()
      client.observe(`${p}/x`, { qos: 1, codec: 'text' }).subscribe((m: Message<string>) => sibling.push(m.payload))
      await publishUntil(`${p}/x`, 'first', () => sibling.includes('first'))
      await raw.publishAsync(`${p}/x`, 'bad-1', { qos: 1 })
      await raw.publishAsync(`${p}/x`, 'good', { qos: 1 })
      await waitFor(() => sibling.includes('good') || thrown.length > 0 || statuses.length > 1, 'good (or an escape, or a reconnect)', 5_000)
      expect(thrown).toEqual([])
      const reconnect = statuses.find((s) => s.type === 'reconnecting')
      expect(reconnect && reconnect.type === 'reconnecting' ? `${reconnect.error.name}: ${reconnect.error.message}` : undefined).toBeUndefined()
      expect(statuses.map((s) => s.type)).toEqual(['connected'])
      expect(sibling).toEqual(['first', 'bad-1', 'good'])
      expect(errors.map((e) => (e as Error).name)).toEqual(['DecodeError'])
    } finally {
      raw.end(true)
    }
  })

  it('a logger whose every method throws: connect, observe, publish, decode failure, reconnect and end all work', async () => {
    const broker = await bed.broker()
    const proxy = await bed.proxy(broker)
    const p = uniquePrefix('ue-logger')
    const client = await bed.pool.connected(proxy.url, { logger: throwingLogger, reconnect: { initialDelay: 20, maxDelay: 40 } })
    const got: unknown[] = []
    const errors: unknown[] = []
    client.errors$.subscribe((e) => errors.push(e))
    client.observe(`${p}/x`, { qos: 1, codec: 'json' }).subscribe((m) => got.push(m.payload))
    await waitFor(async () => {
      await client.publish(`${p}/x`, 'not json', { qos: 1, codec: 'text' })
      return errors.length > 0
    }, 'a DecodeError', 5_000)
    proxy.cut()
    await waitForStatus(client, 'reconnecting')
    await waitForStatus(client, 'connected')
    await waitFor(async () => {
      await client.publish(`${p}/x`, { ok: 1 }, { qos: 1 })
      return got.length > 0
    }, 'a JSON message after the reconnect', 5_000)
    expect(await outcome(client.end())).toBe('resolved')
    expect(thrown).toEqual([])
  })

  it('a credentials provider that throws synchronously: a failed attempt (ConnectionRefusedError), retried; end() resolves', async () => {
    const broker = await bed.broker()
    let asked = 0
    const client = bed.pool.connect(broker.tcpUrl, {
      credentials: () => {
        asked += 1
        throw new Error('provider sync throw')
      },
      reconnect: { initialDelay: 20, maxDelay: 40 },
    })
    const reconnecting = await waitForStatus(client, 'reconnecting')
    expect(reconnecting.error).toBeInstanceOf(ConnectionRefusedError)
    await waitFor(() => asked >= 2, 'asked again', 5_000)
    const publish = outcome(client.publish('x/y', 'z', { qos: 1 }))
    expect(await outcome(client.end())).toBe('resolved')
    expect(await publish).toBe('ClientClosedError')
    expect(thrown).toEqual([])
  })
})

describe.skipIf(noMosquitto())('errors thrown by user code when the client stops for good', () => {
  const bed = testBed('user-errors-fatal')
  const { thrown } = escapes()
  const reported: unknown[] = []
  beforeEach(() => {
    reported.length = 0
    config.onUnhandledError = (e) => void reported.push(e)
  })
  afterEach(() => {
    config.onUnhandledError = null
  })

  it('a teardown the app added throws as refused credentials stop the client: the pending publish still settles, status closed', async () => {
    const broker = await bed.broker({ extra: ['allow_anonymous false'] })
    const client = bed.pool.connect(broker.tcpUrl, { username: 'nobody', password: 'wrong', reconnect: { initialDelay: 20, maxDelay: 40 } })
    const statuses: Status[] = []
    client.status$.subscribe((s) => statuses.push(s))
    const errored: unknown[] = []
    client.observe('a/#').subscribe({ error: (e: unknown) => errored.push(e) }).add(() => {
      throw new Error('teardown')
    })
    client.observe('b/#').subscribe({ error: (e: unknown) => errored.push(e) })
    const publish = outcome(client.publish('t/x', 'x', { qos: 1 }))
    const settled = await Promise.race([publish, new Promise<string>((r) => setTimeout(() => r('pending after 8 s'), 8_000))])
    // And even after end(): the publish must settle (the connection thinks it has stopped already).
    const ended = await outcome(client.end())
    const afterEnd = await Promise.race([publish, new Promise<string>((r) => setTimeout(() => r('pending after end()'), 2_000))])
    expect({ settled, afterEnd, ended, status: statuses.at(-1)?.type, errored: errored.length }).toEqual({ settled: 'NotAuthorizedError', afterEnd: 'NotAuthorizedError', ended: 'resolved', status: 'closed', errored: 2 })
    expect(thrown).toEqual([])
  }, 20_000)
})
