// end() settles everything, in bounded time, whatever the connection is doing: a credentials provider still
// pending (never answering, or answering after end()), a frozen broker with QoS 1 publishes in flight.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ClientClosedError, type Credentials, type MQTTClient, type Status } from '../../lib/node.js'
import { testBed } from '../support/bed.js'
import { noMosquitto } from '../support/binaries.js'
import { uniquePrefix, waitFor } from '../support/wait.js'

/** How each promise settled: 'resolved', or the rejection's class name. */
const outcome = (p: Promise<unknown>): Promise<string> =>
  p.then(
    () => 'resolved',
    (e: unknown) => (e instanceof Error ? e.name : String(e)),
  )

/** end({ timeout }) and how long it took, or why it failed; never throws. */
async function timedEnd(client: MQTTClient, timeout: number): Promise<{ ms: number; result: string }> {
  const started = performance.now()
  const result = await outcome(client.end({ timeout }))
  return { ms: Math.round(performance.now() - started), result }
}

describe.skipIf(noMosquitto())('end() settles everything', () => {
  const bed = testBed('end')
  const unhandled: unknown[] = []
  const onUnhandled = (reason: unknown): void => {
    unhandled.push(reason)
  }
  beforeEach(() => {
    unhandled.length = 0
    process.on('unhandledRejection', onUnhandled)
  })
  afterEach(() => {
    process.off('unhandledRejection', onUnhandled)
  })

  /** A client whose provider is pending, with QoS 0/1/2 publishes waiting, ended with timeout 1000. */
  async function endWhileProviderPending(provider: () => Promise<Credentials>) {
    const broker = await bed.broker({ extra: ['log_type all'] })
    const proxy = await bed.proxy(broker)
    const client = bed.pool.connect(proxy.url, { credentials: provider, reconnect: { initialDelay: 20, maxDelay: 40 } })
    const statuses: Status[] = []
    client.status$.subscribe((s) => statuses.push(s))
    const p = uniquePrefix('end-provider')
    const publishes = ([0, 1, 2] as const).map((qos) => outcome(client.publish(`${p}/x`, `q${qos}`, { qos })))
    const ended = await timedEnd(client, 1_000)
    // A rejection nobody handled is reported after a macrotask or so: give it the chance before counting.
    await new Promise((r) => setImmediate(r))
    return { broker, proxy, client, statuses, publishes, ended }
  }

  it('a credentials provider that never answers: end() resolves at once, closed, publishes rejected', async () => {
    let asked = 0
    const { statuses, publishes, ended } = await endWhileProviderPending(() => {
      asked += 1
      return new Promise<Credentials>(() => undefined)
    })
    process.stdout.write(`end() with a provider that never answers: ${ended.result} after ${ended.ms} ms; status ${statuses.at(-1)?.type}\n`)
    expect(asked).toBe(1)
    expect(ended.result).toBe('resolved')
    expect(ended.ms).toBeLessThan(1_500)
    expect(statuses.at(-1)?.type).toBe('closed')
    expect(await Promise.all(publishes)).toEqual(['ClientClosedError', 'ClientClosedError', 'ClientClosedError'])
    expect(unhandled).toEqual([])
  })

  it('a credentials provider that answers after end(): no connection is opened', async () => {
    let answer: ((c: Credentials) => void) | undefined
    const { broker, proxy, client, statuses, publishes, ended } = await endWhileProviderPending(
      () => new Promise<Credentials>((resolve) => (answer = resolve)),
    )
    expect(answer).toBeDefined()
    answer?.({ username: 'late', password: 'late' })
    // Whatever the late answer starts begins now; a probe through the same proxy, connected and round-tripped
    // after it, bounds the wait: a connection from the ended client would have been accepted first.
    const probe = await bed.pool.connected(proxy.url)
    await probe.publish(`${uniquePrefix('end-probe')}/x`, 'x', { qos: 1 })
    await new Promise((r) => setImmediate(r))
    process.stdout.write(`end() with a provider answering late: ${ended.result} after ${ended.ms} ms; status ${statuses.at(-1)?.type}; proxy connections ${proxy.connections}\n`)
    expect(ended.result).toBe('resolved')
    expect(ended.ms).toBeLessThan(1_500)
    expect(statuses.at(-1)?.type).toBe('closed')
    expect(await Promise.all(publishes)).toEqual(['ClientClosedError', 'ClientClosedError', 'ClientClosedError'])
    expect(proxy.connections).toBe(1) // the probe's
    expect(await broker.log()).not.toContain(` as ${client.clientId} `)
    expect(unhandled).toEqual([])
  })

  it('a frozen broker with QoS 1 publishes in flight: end({ timeout: 1000 }) takes about 1 s in total', async () => {
    const broker = await bed.broker({ extra: ['log_type all'] })
    const client = await bed.pool.connected(broker.tcpUrl)
    const p = uniquePrefix('end-frozen')
    await client.publish(`${p}/x`, 'before', { qos: 1 }) // the connection works
    broker.signal('SIGSTOP')
    const publishes = Array.from({ length: 5 }, (_, i) => outcome(client.publish(`${p}/x`, `f${i}`, { qos: 1 })))
    const statuses: Status[] = []
    client.status$.subscribe((s) => statuses.push(s))
    const ended = await timedEnd(client, 1_000)
    broker.signal('SIGCONT')
    process.stdout.write(`end({ timeout: 1000 }) against a frozen broker: ${ended.result} after ${ended.ms} ms\n`)
    expect(ended.result).toBe('resolved')
    expect(ended.ms).toBeLessThan(1_500)
    await waitFor(() => statuses.at(-1)?.type === 'closed', 'status closed', 1_000)
    expect(await Promise.all(publishes)).toEqual(Array(5).fill('ClientClosedError'))
    expect(unhandled).toEqual([])
  })
})
