// Acknowledged processing: the PUBACK waits for the application, so a slow consumer leaves the backlog at
// the broker; a failing handler gets the message again; a crash loses nothing with a persistent session.
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { describe, expect, it } from 'vitest'
import { acknowledge, HandlerError, type Message } from '../../lib/node.js'
import { testBed } from '../support/bed.js'
import { noMosquitto } from '../support/binaries.js'
import { waitForStatus } from '../support/clients.js'
import { next, uniquePrefix, waitFor } from '../support/wait.js'

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void
/** Live heap: what is left after a full collection. */
const liveHeap = (): number => {
  gc()
  return process.memoryUsage().heapUsed
}

// The broker must be allowed to hold a large backlog for a slow subscriber (the kit's profile keeps 1,000).
const backlog = ['max_queued_messages 100000', 'log_type all']

describe.skipIf(noMosquitto())('acknowledged processing with backpressure', () => {
  const bed = testBed('acked')
  const pool = bed.pool

  const burst = async (ack: 'manual' | 'auto'): Promise<number> => {
    const broker = await bed.broker({ extra: backlog })
    const p = uniquePrefix('burst')
    const total = 50_000
    const consumer = await pool.connected(broker.tcpUrl, { clean: false })
    const seen = new Set<number>()
    let handled = 0
    // The consumer is stalled until the whole burst is published, then slower than any publisher: the backlog
    // is the whole burst whatever the machine's speed (on a loaded machine a merely slow consumer kept up, and
    // the automatic case had too little backlog to show).
    let resume!: () => void
    const stalled = new Promise<void>((resolve) => (resume = resolve))
    const processing = consumer
      .observe(`${p}/jobs`, { qos: 1, ack })
      .pipe(
        acknowledge(async (m: Message) => {
          await stalled
          seen.add(new DataView(m.raw.buffer, m.raw.byteOffset).getUint32(0))
          handled += 1
          // Deliberately slower than the publisher: a 2 ms pause every 20 messages, a turn of the event loop on each.
          await new Promise((resolve) => (handled % 20 === 0 ? setTimeout(resolve, 2) : setImmediate(resolve)))
        }),
      )
      .subscribe()
    await broker.waitForSubscription(consumer.clientId, `${p}/jobs`, 1)

    const baseline = liveHeap()
    let peak = baseline
    let sampler: ReturnType<typeof setInterval> | undefined
    try {
      const publisher = await pool.connected(broker.tcpUrl)
      const payload = new Uint8Array(100)
      for (let i = 0; i < total; i++) {
        const message = payload.slice()
        new DataView(message.buffer).setUint32(0, i)
        const sent = publisher.publish(`${p}/jobs`, message, { qos: 1 })
        if (i % 1_000 === 999) await sent // keep the publisher's own in-flight window modest
      }
      await publisher.end()
      // What the consumer has not handled yet sits at the broker (manual) or in the consumer (auto); the
      // consumer's live heap is sampled while it works through it.
      const backlogLeft = total - seen.size
      peak = Math.max(peak, liveHeap())
      resume()
      sampler = setInterval(() => (peak = Math.max(peak, liveHeap())), 100)
      await waitFor(() => seen.size === total, `all ${total} messages handled`, 120_000)
      process.stdout.write(`${ack} acknowledgement: ${backlogLeft} of ${total} messages not yet handled when publishing ended\n`)
    } finally {
      clearInterval(sampler)
      processing.unsubscribe()
    }
    const grownMiB = (peak - baseline) / 1024 / 1024
    process.stdout.write(`${ack} acknowledgement: ${total} QoS 1 messages handled (${handled} handler runs), peak live heap +${grownMiB.toFixed(2)} MiB over baseline\n`)
    expect(seen.size).toBe(total)
    await pool.endAll()
    await broker.dispose()
    return grownMiB
  }

  it('a slow consumer of a 50,000-message QoS 1 burst keeps its heap bounded and handles every message', async () => {
    const acked = await burst('manual')
    // The same consumer with automatic acknowledgements: the backlog moves into its memory.
    const unacked = await burst('auto')
    expect(acked).toBeLessThan(4)
    expect(unacked).toBeGreaterThan(acked + 4)
  }, 150_000)

  it('an observer that leaves holding an unacknowledged message does not stall the connection', async () => {
    const broker = await bed.broker({ extra: backlog })
    const p = uniquePrefix('leaver')
    const client = await pool.connected(broker.tcpUrl)
    const held: string[] = []
    const leaver = client.observe(`${p}/jobs`, { qos: 1, ack: 'manual', codec: 'text' }).subscribe((m) => held.push(m.payload))
    const others: string[] = []
    client.observe(`${p}/other`, { qos: 1, codec: 'text' }).subscribe((m) => others.push(m.payload))
    await broker.waitForSubscription(client.clientId, `${p}/other`, 1)
    await broker.waitForSubscription(client.clientId, `${p}/jobs`, 1)
    // A publisher of its own: until the job is acknowledged, this client reads nothing, not even PUBACKs.
    const publisher = await pool.connected(broker.tcpUrl)
    await publisher.publish(`${p}/jobs`, 'job', { qos: 1 })
    await waitFor(() => held.length === 1, 'the job it never acknowledges')
    leaver.unsubscribe() // later, still holding it: the connection must not wait for it for ever
    await publisher.publish(`${p}/other`, 'still flowing', { qos: 1 })
    await waitFor(() => others.length === 1, 'a later message on the same connection')
    expect(others).toEqual(['still flowing'])
  })

  it('a handler that fails does not acknowledge: the message comes again and is handled', async () => {
    const broker = await bed.broker({ extra: backlog })
    const p = uniquePrefix('retry')
    const consumer = await pool.connected(broker.tcpUrl, { clean: false, reconnect: { initialDelay: 20, maxDelay: 50 } })
    const attempts: string[] = []
    const failure = next(consumer.errors$, 'the HandlerError')
    consumer
      .observe(`${p}/jobs`, { qos: 1, ack: 'manual', codec: 'text' })
      .pipe(
        acknowledge(async (m) => {
          attempts.push(`${m.payload}${m.retain ? ' (retained)' : ''}`)
          if (m.payload === 'poison' && attempts.filter((a) => a === 'poison').length === 1) throw new Error('database unavailable')
        }),
      )
      .subscribe()
    await broker.waitForSubscription(consumer.clientId, `${p}/jobs`, 1)
    const publisher = await pool.connected(broker.tcpUrl)
    for (const job of ['a', 'poison', 'b']) await publisher.publish(`${p}/jobs`, job, { qos: 1 })
    await waitFor(() => attempts.includes('b'), 'the job after the failing one')
    const error = await failure
    expect(error).toBeInstanceOf(HandlerError)
    expect(error.cause).toMatchObject({ message: 'database unavailable' })
    expect(attempts).toEqual(['a', 'poison', 'poison', 'b'])
  })

  it('a consumer that crashes mid-stream and restarts with the same persistent session loses nothing', async () => {
    const broker = await bed.broker({ extra: backlog })
    const p = uniquePrefix('crash')
    const clientId = `crash-${process.pid}`
    const total = 2_000
    const handled = new Set<string>()
    const first = await pool.connected(broker.tcpUrl, { clientId, clean: false })
    let crashed = false
    first
      .observe(`${p}/jobs`, { qos: 1, ack: 'manual', codec: 'text' })
      .pipe(
        acknowledge(async (m) => {
          if (handled.size === total / 2) {
            // Crash while holding this message: no acknowledgement, no DISCONNECT.
            crashed = true
            await first.end({ force: true })
            return new Promise<never>(() => undefined)
          }
          handled.add(m.payload)
        }),
      )
      .subscribe()
    await broker.waitForSubscription(clientId, `${p}/jobs`, 1)
    const publisher = await pool.connected(broker.tcpUrl)
    for (let i = 0; i < total; i++) await publisher.publish(`${p}/jobs`, `job-${i}`, { qos: 1 })
    await waitFor(() => crashed, 'the crash')
    const beforeRestart = handled.size

    const second = pool.connect(broker.tcpUrl, { clientId, clean: false })
    second
      .observe(`${p}/jobs`, { qos: 1, ack: 'manual', codec: 'text' })
      .pipe(acknowledge(async (m) => void handled.add(m.payload)))
      .subscribe()
    expect(await waitForStatus(second, 'connected')).toMatchObject({ sessionPresent: true })
    await waitFor(() => handled.size === total, `all ${total} jobs`, 30_000)
    process.stdout.write(`crash after ${beforeRestart} of ${total} jobs: all ${handled.size} handled after the restart\n`)
    expect(handled.size).toBe(total)
  })
})
