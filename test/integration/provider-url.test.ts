// A credentials provider that chooses each attempt's URL (docs/guide/client.md `credentials`; lib/options/
// attempt-credentials.ts): each attempt goes where the provider says, status$ and client.url report it; a bad
// URL or a provider that throws fails that attempt with a typed error (ConnectionRefusedError, "a failed
// attempt: back off, ask again", lib/connection/credentials-policy.ts) and the client retries with the backoff.
import { describe, expect, it } from 'vitest'
import { ConnectionRefusedError, UnsupportedOptionError, type ReconnectingStatus, type Status } from '../../lib/node.js'
import { testBed } from '../support/bed.js'
import { noMosquitto } from '../support/binaries.js'
import { waitForStatus } from '../support/clients.js'
import { uniquePrefix, waitFor } from '../support/wait.js'

describe.skipIf(noMosquitto())('a credentials provider with a URL of its own for each attempt', () => {
  const bed = testBed('lifecycle-provider-url')

  it('each attempt goes where the provider says; bad URLs fail their attempt with a typed error and are retried', async () => {
    const broker = await bed.broker()
    const [proxyA, proxyB] = [await bed.proxy(broker), await bed.proxy(broker)]
    const answers: unknown[] = [proxyA.url, 'http://127.0.0.1:1/nope', 'mqtt:///no-host', 42, broker.wsUrl, proxyB.url]
    let asked = 0
    const policy = { initialDelay: 20, maxDelay: 40 }
    const client = bed.pool.connect(proxyB.url, {
      reconnect: policy,
      credentials: () => {
        const url = answers[Math.min(asked, answers.length - 1)]
        asked += 1
        return { url } as never
      },
    })
    const statuses: Status[] = []
    client.status$.subscribe((s) => statuses.push(s))
    const first = await waitForStatus(client, 'connected')
    expect(first.url).toBe(proxyA.url)
    expect(client.url).toBe(proxyA.url)
    expect([proxyA.connections, proxyB.connections]).toEqual([1, 0])
    proxyA.cut()
    await waitFor(() => statuses.filter((s) => s.type === 'connected').length === 2, 'the second connection')
    // The three bad answers: three attempts that failed before any socket, each a typed, retried error.
    const failed = statuses.filter((s): s is ReconnectingStatus => s.type === 'reconnecting').slice(1)
    expect(failed).toHaveLength(3)
    for (const s of failed) {
      expect(s.error).toBeInstanceOf(ConnectionRefusedError)
      expect((s.error as Error & { cause?: unknown }).cause).toBeInstanceOf(UnsupportedOptionError)
    }
    expect(failed.map((s) => s.attempt)).toEqual([2, 3, 4])
    // The fifth answer (the broker's WebSocket listener, another scheme than the client's url) is where it went.
    expect(statuses.at(-1)).toMatchObject({ type: 'connected', url: broker.wsUrl })
    expect(client.url).toBe(broker.wsUrl)
    expect([proxyA.connections, proxyB.connections]).toEqual([1, 0])
    const topic = `${uniquePrefix('lc-provider-url')}/x`
    await client.publish(topic, 'x', { qos: 1 })
    expect(asked).toBe(5)
  })

  it('a provider that throws (synchronously, or rejects) fails the attempt, is retried with the backoff, then connects', async () => {
    const broker = await bed.broker()
    let asked = 0
    const client = bed.pool.connect(broker.tcpUrl, {
      reconnect: { initialDelay: 20, maxDelay: 40 },
      credentials: () => {
        asked += 1
        if (asked === 1) throw new Error('sync boom')
        if (asked === 2) return Promise.reject(new Error('async boom'))
        if (asked === 3) return null as never
        return { username: 'ok' }
      },
    })
    const statuses: Status[] = []
    client.status$.subscribe((s) => statuses.push(s))
    await waitForStatus(client, 'connected')
    expect(statuses.map((s) => s.type)).toEqual(['connecting', 'reconnecting', 'reconnecting', 'reconnecting', 'connected'])
    const retries = statuses.filter((s): s is ReconnectingStatus => s.type === 'reconnecting')
    expect(retries.map((s) => s.attempt)).toEqual([1, 2, 3])
    for (const s of retries) expect(s.error).toBeInstanceOf(ConnectionRefusedError)
    expect(retries.map((s) => ((s.error as Error & { cause?: Error }).cause as Error).message)).toEqual([
      'sync boom',
      'async boom',
      expect.stringContaining('credentials()'),
    ])
    expect(asked).toBe(4)
  })
})
