// iterate(), serve(), route() and connected() at their edges, against a private Mosquitto.
import { describe, expect, it } from 'vitest'
import { ClientClosedError, DecodeError, type Message, ResponderError } from '../../lib/node.js'
import { testBed } from '../support/bed.js'
import { noMosquitto } from '../support/binaries.js'
import { escapes } from '../support/escapes.js'
import { uniquePrefix, waitFor } from '../support/wait.js'

/** `promise`, or a rejection naming `what` after `ms` (a bound on a wait, not a synchronisation). */
function within<T>(promise: Promise<T>, what: string, ms = 5_000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const bound = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not settled within ${ms} ms`)), ms)))
  return Promise.race([promise, bound]).finally(() => clearTimeout(timer))
}

const grantedOn = async (client: { subscriptions$: import('rxjs').Observable<readonly { filter: string; grantedQos?: number }[]> }, filter: string) => {
  let found = false
  const s = client.subscriptions$.subscribe((subs) => (found ||= subs.some((x) => x.filter === filter && x.grantedQos !== undefined)))
  try {
    await waitFor(() => found, `SUBACK of ${filter}`)
  } finally {
    s.unsubscribe()
  }
}

describe.skipIf(noMosquitto())('iterate(), serve(), route(), connected(): edges', () => {
  const bed = testBed('edge-services')
  const { thrown } = escapes()

  it('iterate(): two next() calls made before a message arrives both settle, in order (as an async generator queues them)', async () => {
    const broker = await bed.broker()
    const p = uniquePrefix('edge-it-next')
    const client = await bed.pool.connected(broker.tcpUrl)
    const it = client.iterate(`${p}/x`, { codec: 'text', qos: 1 })
    const a = it.next()
    const b = it.next()
    await grantedOn(client, `${p}/x`)
    await client.publish(`${p}/x`, 'one', { qos: 1 })
    await client.publish(`${p}/x`, 'two', { qos: 1 })
    const second = await within(b, 'second next()')
    const first = await within(a, 'first next()')
    expect([first.value?.payload, second.value?.payload]).toEqual(['one', 'two'])
    await it.return?.()
  }, 15_000)

  it('iterate(): a loop on a client that ends finishes (done), and the next step is done too', async () => {
    const broker = await bed.broker()
    const p = uniquePrefix('edge-it-end')
    const client = await bed.pool.connected(broker.tcpUrl)
    const seen: string[] = []
    const loop = (async () => {
      for await (const m of client.iterate(`${p}/x`, { codec: 'text', qos: 1 })) {
        seen.push(m.payload)
        if (seen.length === 1) void client.end()
      }
      return 'ended'
    })()
    await grantedOn(client, `${p}/x`)
    await client.publish(`${p}/x`, 'one', { qos: 1 })
    expect(await within(loop, 'the loop on an ending client')).toBe('ended')
    expect(seen).toEqual(['one'])
    expect(thrown).toEqual([])
  })

  it('iterate(): a loop that throws releases the broker subscription (the broker forwards nothing more)', async () => {
    const broker = await bed.broker()
    const p = uniquePrefix('edge-it-throw')
    const client = await bed.pool.connected(broker.tcpUrl)
    const loop = (async () => {
      for await (const m of client.iterate(`${p}/x`, { codec: 'text', qos: 1, ack: 'manual' })) {
        throw new Error(`failed on ${m.payload}`)
      }
    })().then(() => 'ended', (e: unknown) => e)
    await grantedOn(client, `${p}/x`)
    await client.publish(`${p}/x`, 'one', { qos: 1 })
    expect(String(await within(loop, 'the throwing loop'))).toContain('failed on one')
    await waitFor(async () => {
      let subs: readonly { filter: string }[] = []
      client.subscriptions$.subscribe((s) => (subs = s)).unsubscribe()
      return !subs.some((s) => s.filter === `${p}/x`)
    }, 'the subscription released')
    // The connection is not stalled by the message the loop held: a publish round-trips through another observer.
    const probe = client.iterate(`${p}/probe`, { codec: 'text', qos: 1 })
    const first = probe.next()
    await grantedOn(client, `${p}/probe`)
    await client.publish(`${p}/probe`, 'alive', { qos: 1 })
    expect((await within(first, 'probe')).value?.payload).toBe('alive')
    await probe.return?.()
  })

  it('serve(): a slow handler does not hold up the next request (handlers run concurrently)', async () => {
    const broker = await bed.broker()
    const p = uniquePrefix('edge-serve-slow')
    const server = await bed.pool.connected(broker.tcpUrl)
    let release: () => void = () => undefined
    const gate = new Promise<void>((r) => (release = r))
    server.serve<string>(`${p}/x`, async (m) => {
      if (m.payload === 'slow') await gate
      return `done-${m.payload}`
    }, { codec: 'text' })
    await grantedOn(server, `${p}/x`)
    const client = await bed.pool.connected(broker.tcpUrl)
    const slow = client.request(`${p}/x`, 'slow', { codec: 'text', timeout: 20_000 })
    const fast = await client.request(`${p}/x`, 'fast', { codec: 'text', timeout: 20_000 })
    expect(fast.payload).toBe('done-fast')
    release()
    expect((await slow).payload).toBe('done-slow')
  })

  it('serve(): a result larger than the broker maximum packet size comes back as a ResponderError, not a timeout', async () => {
    const broker = await bed.broker({ extra: ['max_packet_size 2000'] })
    const p = uniquePrefix('edge-serve-huge')
    const server = await bed.pool.connected(broker.tcpUrl)
    server.serve(`${p}/x`, () => 'x'.repeat(10_000))
    await grantedOn(server, `${p}/x`)
    const client = await bed.pool.connected(broker.tcpUrl)
    const error = await client.request(`${p}/x`, 'q', { timeout: 10_000 }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ResponderError)
    expect(thrown).toEqual([])
  })

  it('serve(): a handler that rejects with a non-Error (a string, an object whose name getter throws) is an error reply; nothing escapes', async () => {
    const broker = await bed.broker()
    const p = uniquePrefix('edge-serve-odd')
    const server = await bed.pool.connected(broker.tcpUrl)
    server.serve<string>(`${p}/x`, async (m) => {
      if (m.payload === 'string') throw 'just a string'
      const weird = new Error('weird')
      Object.defineProperty(weird, 'name', { get: () => { throw new Error('no name') } })
      Object.defineProperty(weird, 'message', { get: () => { throw new Error('no message') } })
      throw weird
    }, { codec: 'text' })
    await grantedOn(server, `${p}/x`)
    const client = await bed.pool.connected(broker.tcpUrl)
    const a = await client.request(`${p}/x`, 'string', { timeout: 10_000 }).catch((e: unknown) => e)
    const b = await client.request(`${p}/x`, 'weird', { timeout: 10_000 }).catch((e: unknown) => e)
    expect(a).toBeInstanceOf(ResponderError)
    expect(b).toBeInstanceOf(ResponderError)
    expect(thrown).toEqual([])
  })

  it('route(): two overlapping routes each get the message with their own params; a schema that throws a non-Error is a DecodeError and the stream goes on', async () => {
    const broker = await bed.broker()
    const p = uniquePrefix('edge-route')
    const client = await bed.pool.connected(broker.tcpUrl)
    const a: unknown[] = []
    const b: unknown[] = []
    const errors: unknown[] = []
    client.errors$.subscribe((e) => errors.push(e))
    const ra = client.route(`${p}/{device}/{sensor}`, { codec: 'text' }).subscribe((m) => a.push(m.params))
    const rb = client
      .route(`${p}/{device}/temp`, {
        schema: (v: unknown) => {
          if (typeof v !== 'number') throw 'not a number'
          return v
        },
      })
      .subscribe((m) => b.push({ ...m.params, value: m.payload }))
    await grantedOn(client, `${p}/+/+`)
    await grantedOn(client, `${p}/+/temp`)
    await client.publish(`${p}/d1/temp`, '"bad"', { qos: 1 })
    await client.publish(`${p}/d2/temp`, '21', { qos: 1 })
    await waitFor(() => a.length === 2 && b.length === 1 && errors.length === 1, 'both routes and the schema failure')
    expect(a).toEqual([{ device: 'd1', sensor: 'temp' }, { device: 'd2', sensor: 'temp' }])
    expect(b).toEqual([{ device: 'd2', value: 21 }])
    expect(errors[0]).toBeInstanceOf(DecodeError)
    ra.unsubscribe()
    rb.unsubscribe()
    expect(thrown).toEqual([])
  })

  it('route(): a $share pattern names the params of the part after the group', async () => {
    const broker = await bed.broker()
    const p = uniquePrefix('edge-route-share')
    const client = await bed.pool.connected(broker.tcpUrl)
    const got: Message<string>[] = []
    const s = client.route(`$share/g/${p}/{id}/t`, { codec: 'text' }).subscribe((m) => got.push(m as unknown as Message<string>))
    await grantedOn(client, `$share/g/${p}/+/t`)
    await client.publish(`${p}/d7/t`, 'v', { qos: 1 })
    await waitFor(() => got.length === 1, 'the shared route message')
    expect(got[0]?.params).toEqual({ id: 'd7' })
    s.unsubscribe()
  })

  it('route(): a pattern with a wildcard errors with InvalidTopicError when subscribed, nothing escapes', async () => {
    const broker = await bed.broker()
    const client = await bed.pool.connected(broker.tcpUrl)
    for (const pattern of ['a/+/b', 'a/#', 'a/{x}/{x}', 'a/{x}y', '']) {
      const error = await new Promise((resolve) => client.route(pattern).subscribe({ error: resolve, complete: () => resolve('completed') }))
      expect((error as Error).name, pattern).toBe('InvalidTopicError')
    }
    expect(thrown).toEqual([])
  })

  it('connected(): on a connected client with a timeout resolves at once; after end() it rejects with ClientClosedError', async () => {
    const broker = await bed.broker()
    const client = await bed.pool.connected(broker.tcpUrl)
    const status = await within(client.connected({ timeout: 50, signal: new AbortController().signal }), 'connected()')
    expect(status.type).toBe('connected')
    await client.end()
    await expect(client.connected({ timeout: 5_000 })).rejects.toBeInstanceOf(ClientClosedError)
    expect(thrown).toEqual([])
  })
})
