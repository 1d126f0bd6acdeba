// `await client.connected()` and `for await (const m of client.iterate(filter))` against a real Mosquitto, over
// the link under test: readiness resolves on the CONNACK and rejects with the typed refusal, a timeout or the
// client's end; the loop gets the messages in order, releases the subscription when it breaks, falls behind
// into a typed error with its buffer bounded, and with manual acknowledgements makes the broker wait.
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ClientClosedError, ConnectionLostError, type Message, NotAuthorizedError, QueueFullError, UnsupportedOptionError } from '../../lib/node.js'
import { noMosquitto } from '../support/binaries.js'
import { ClientPool } from '../support/clients.js'
import { freePort } from '../support/ports.js'
import { Mosquitto } from '../support/mosquitto.js'
import { uniquePrefix, waitFor } from '../support/wait.js'

describe.skipIf(noMosquitto())('connected() and iterate()', () => {
  let broker: Mosquitto
  let dir = ''
  const pool = new ClientPool('conveniences')
  const credentials = { username: 'sensor', password: 'right-password' }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'iotpubsub-conveniences-'))
    await promisify(execFile)('mosquitto_passwd', ['-c', '-b', join(dir, 'passwd'), credentials.username, credentials.password])
    broker = await Mosquitto.start({
      persistence: false,
      extra: ['allow_anonymous false', 'password_file /mosquitto/config/passwd'],
      files: { 'config/passwd': await readFile(join(dir, 'passwd'), 'utf8') },
    })
  })
  afterAll(async () => {
    await pool.endAll()
    await broker?.dispose()
    await rm(dir, { recursive: true, force: true })
  })

  it('connected() resolves with the connected status, at once when connected already', async () => {
    const client = pool.connect(broker.tcpUrl, credentials)
    const status = await client.connected()
    expect(status).toMatchObject({ type: 'connected', sessionPresent: false })
    expect(await client.connected()).toBe(status)
  })

  it('connected() rejects with the typed refusal, a timeout, an abort, and the end of the client', async () => {
    await expect(pool.connect(broker.tcpUrl, { ...credentials, password: 'wrong' }).connected()).rejects.toBeInstanceOf(NotAuthorizedError)
    const nowhere = `mqtt://127.0.0.1:${await freePort()}`
    const offline = pool.connect(nowhere, { reconnect: { initialDelay: 50, maxDelay: 100 } })
    const timedOut = await offline.connected({ timeout: 300 }).catch((e: unknown) => e)
    expect(timedOut).toBeInstanceOf(ConnectionLostError)
    expect((timedOut as Error).message).toMatch(/within 300 ms/)
    const abort = new AbortController()
    const waiting = offline.connected({ signal: abort.signal })
    abort.abort()
    await expect(waiting).rejects.toBeInstanceOf(ConnectionLostError)
    const ending = offline.connected()
    await offline.end()
    await expect(ending).rejects.toBeInstanceOf(ClientClosedError)
  })

  it('connected() with a timeout that is not a positive number rejects with UnsupportedOptionError', async () => {
    const client = pool.connect(broker.tcpUrl, credentials)
    for (const timeout of [Number.NaN, 0, -5, '100' as unknown as number]) {
      await expect(client.connected({ timeout })).rejects.toBeInstanceOf(UnsupportedOptionError)
    }
    await client.connected()
  })

  it('iterate() gives the messages in order and releases the subscription when the loop breaks', async () => {
    const p = uniquePrefix('iterate')
    const client = pool.connect(broker.tcpUrl, credentials)
    await client.connected()
    const seen: string[] = []
    const loop = (async () => {
      for await (const m of client.iterate(`${p}/+`, { codec: 'text', qos: 1 })) {
        seen.push(m.payload)
        if (seen.length === 5) break
      }
    })()
    await waitFor(async () => (await subscriptionsOf(client)).includes(`${p}/+`), 'the loop to subscribe')
    for (let i = 0; i < 5; i++) await client.publish(`${p}/n`, `m${i}`, { qos: 1 })
    await loop
    expect(seen).toEqual(['m0', 'm1', 'm2', 'm3', 'm4'])
    expect(await subscriptionsOf(client)).not.toContain(`${p}/+`)
    expect(() => client.iterate(`${p}/#/x`)).toThrow(/Invalid topic/)
    expect(() => client.iterate(`${p}/+`, { bufferSize: 0 })).toThrow(UnsupportedOptionError)
  })

  it('iterate() with automatic acks holds at most bufferSize messages, then QueueFullError; with manual acks the loop sets the pace', async () => {
    const p = uniquePrefix('iterate-behind')
    const client = pool.connect(broker.tcpUrl, credentials)
    await client.connected()
    const behind = client.iterate(`${p}/auto`, { codec: 'text', bufferSize: 10 })
    const first = behind.next()
    await waitFor(async () => (await subscriptionsOf(client)).includes(`${p}/auto`), 'the iterator to subscribe')
    // The loop takes one and then stops reading: 10 wait, the 12th overflows.
    await Promise.all(Array.from({ length: 30 }, (_, i) => client.publish(`${p}/auto`, `a${i}`, { qos: 1 })))
    expect(((await first).value as Message<string>).payload).toBe('a0')
    const rest: string[] = []
    const error = await (async () => {
      try {
        for (;;) {
          const r = await behind.next()
          if (r.done) return undefined
          rest.push(r.value.payload)
        }
      } catch (e) {
        return e
      }
    })()
    expect(rest).toEqual(Array.from({ length: 10 }, (_, i) => `a${i + 1}`))
    expect(error).toBeInstanceOf(QueueFullError)
    expect(await subscriptionsOf(client)).not.toContain(`${p}/auto`)

    // Manual: 30 QoS 1 messages, a loop that takes them one by one: all arrive, in order, none lost or repeated.
    const seen: string[] = []
    const loop = (async () => {
      for await (const m of client.iterate(`${p}/manual`, { codec: 'text', qos: 1, ack: 'manual', bufferSize: 1 })) {
        seen.push(m.payload)
        if (seen.length === 30) break
      }
    })()
    await waitFor(async () => (await subscriptionsOf(client)).includes(`${p}/manual`), 'the manual loop to subscribe')
    const sender = pool.connect(broker.tcpUrl, credentials)
    await Promise.all(Array.from({ length: 30 }, (_, i) => sender.publish(`${p}/manual`, `b${i}`, { qos: 1 })))
    await loop
    expect(seen).toEqual(Array.from({ length: 30 }, (_, i) => `b${i}`))
    // The last message was acknowledged when the loop broke: the connection reads on.
    await client.publish(`${p}/after`, 'x', { qos: 1 })
  })
})

async function subscriptionsOf(client: { subscriptions$: import('rxjs').Observable<readonly { filter: string; grantedQos: number | undefined }[]> }): Promise<string[]> {
  const { firstValueFrom } = await import('rxjs')
  const list = await firstValueFrom(client.subscriptions$)
  return list.filter((s) => s.grantedQos !== undefined).map((s) => s.filter)
}
