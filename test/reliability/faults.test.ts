// Streams of QoS 1 messages through injected faults, counting what was published and what arrived.
import { describe, expect, it } from 'vitest'
import { testBed } from '../support/bed.js'
import { noMosquitto } from '../support/binaries.js'
import { countInLog, waitForStatus } from '../support/clients.js'
import { uniquePrefix, waitFor } from '../support/wait.js'

const COUNT = 300
const CUTS = new Set([50, 150, 250])
const fast = { reconnect: { initialDelay: 20, maxDelay: 80 } }

function tally(received: string[]): { distinct: number; duplicates: number } {
  const distinct = new Set(received).size
  return { distinct, duplicates: received.length - distinct }
}

describe.skipIf(noMosquitto())('fault injection with every message counted', () => {
  const bed = testBed('faults')
  const pool = bed.pool

  it.each([1, 2] as const)('subscriber connections cut mid-stream at QoS %s (persistent session): nothing lost; duplicates only at QoS 1', async (qos) => {
    const broker = await bed.broker({ extra: ['log_type all'] })
    const proxy = await bed.proxy(broker)
    const p = uniquePrefix('cut-sub')
    const subscriber = await pool.connected(proxy.url, { ...fast, clean: false })
    const received: string[] = []
    let ended = false
    subscriber.observe(`${p}/#`, { qos, codec: 'text' }).subscribe({ next: (m) => received.push(m.payload), complete: () => (ended = true), error: () => (ended = true) })
    await broker.waitForLog(new RegExp(`${subscriber.clientId} ${qos} ${p}/#$`, 'm'))
    const publisher = await pool.connected(broker.tcpUrl)
    for (let i = 0; i < COUNT; i++) {
      if (CUTS.has(i)) proxy.cut()
      await publisher.publish(`${p}/n`, `n${i}`, { qos })
    }
    await waitFor(() => new Set(received).size === COUNT, `all ${COUNT} messages`, 20_000)
    const { distinct, duplicates } = tally(received)
    process.stdout.write(`subscriber cut ${CUTS.size}× at QoS ${qos}: ${distinct}/${COUNT} arrived, ${duplicates} duplicates\n`)
    expect(distinct).toBe(COUNT)
    // QoS 1 is at least once: messages whose PUBACK was lost in a cut come again. QoS 2 is exactly once.
    if (qos === 2) expect(duplicates).toBe(0)
    expect(ended).toBe(false)
    expect(countInLog(await broker.log(), 'UNSUBSCRIBE', subscriber.clientId)).toBe(0)
  })

  it('publisher connections cut mid-stream: every publish settles, every message arrives', async () => {
    const broker = await bed.broker({ extra: ['log_type all'] })
    const proxy = await bed.proxy(broker)
    const p = uniquePrefix('cut-pub')
    const subscriber = await pool.connected(broker.tcpUrl)
    const received: string[] = []
    subscriber.observe(`${p}/#`, { qos: 1, codec: 'text' }).subscribe((m) => received.push(m.payload))
    await broker.waitForSubscription(subscriber.clientId, `${p}/#`, 1)
    const publisher = await pool.connected(proxy.url, fast)
    // Not awaited one by one: a window of publishes is in flight when each cut lands.
    const outcomes: Array<Promise<string>> = []
    for (let i = 0; i < COUNT; i++) {
      if (CUTS.has(i)) {
        proxy.cut()
        await waitForStatus(publisher, 'connected')
      }
      outcomes.push(publisher.publish(`${p}/n`, `n${i}`, { qos: 1 }).then(() => 'ok', (e: Error) => e.name))
      if (i % 10 === 9) await outcomes.at(-1)
    }
    const settled = await Promise.all(outcomes)
    expect(settled.filter((s) => s !== 'ok')).toEqual([])
    await waitFor(() => new Set(received).size === COUNT, `all ${COUNT} messages`, 20_000)
    const { distinct, duplicates } = tally(received)
    process.stdout.write(`publisher cut ${CUTS.size}×: ${distinct}/${COUNT} arrived, ${duplicates} duplicates\n`)
    expect(distinct).toBe(COUNT)
  })

  it('broker SIGKILLed and restarted on the same port without persistence: every publish settles, observers carry on', async () => {
    const broker = await bed.broker({ extra: ['log_type all'] })
    const p = uniquePrefix('sigkill')
    const subscriber = await pool.connected(broker.tcpUrl, fast)
    const received: string[] = []
    let ended = false
    subscriber.observe(`${p}/#`, { qos: 1, codec: 'text' }).subscribe({ next: (m) => received.push(m.payload), complete: () => (ended = true), error: () => (ended = true) })
    await broker.waitForSubscription(subscriber.clientId, `${p}/#`, 1)
    const publisher = await pool.connected(broker.tcpUrl, fast)
    const outcomes: Array<Promise<string>> = []
    for (let i = 0; i < COUNT; i++) {
      if (i === COUNT / 2) {
        await broker.stop('SIGKILL')
        await broker.restart()
      }
      outcomes.push(publisher.publish(`${p}/n`, `n${i}`, { qos: 1 }).then(() => 'ok', (e: Error) => e.name))
      if (i % 10 === 9) await outcomes.at(-1)
    }
    expect((await Promise.all(outcomes)).filter((s) => s !== 'ok')).toEqual([])
    // QoS is per hop: what reached the restarted broker before the subscriber's SUBSCRIBE is gone.
    await waitFor(() => received.includes(`n${COUNT - 1}`), 'the last message')
    const published = new Set(Array.from({ length: COUNT }, (_, i) => `n${i}`))
    expect(received.every((m) => published.has(m))).toBe(true)
    for (let i = 0; i < COUNT / 2; i++) expect(received).toContain(`n${i}`)
    expect(ended).toBe(false)
    process.stdout.write(`SIGKILL mid-stream: ${new Set(received).size}/${COUNT} arrived (${COUNT / 2} before the kill all arrived)\n`)
  })
})
