// A late observer of a filter with more retained topics than the cache holds (20,000, default cache of 1,000)
// gets every one of them, exactly once, from the broker (MQTT 5: a SUBSCRIBE with Retain Handling 0 asks for
// them again); the observer that was there first gets no duplicate. Before, the late one got the 1,000 in the
// cache, silently.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Message } from '../../lib/node.js'
import { noMosquitto } from '../support/binaries.js'
import { ClientPool } from '../support/clients.js'
import { Mosquitto } from '../support/mosquitto.js'
import { uniquePrefix, waitFor } from '../support/wait.js'

const TOPICS = 20_000

/** Counts what an observer got, per topic. */
class Tally {
  readonly retained = new Map<string, number>()
  readonly live: string[] = []
  add(m: Message<string>): void {
    if (m.retain) this.retained.set(m.topic, (this.retained.get(m.topic) ?? 0) + 1)
    else this.live.push(`${m.topic}=${m.payload}`)
  }
  get duplicates(): number {
    let n = 0
    for (const count of this.retained.values()) if (count > 1) n += count - 1
    return n
  }
}

describe.skipIf(noMosquitto())('a late observer of an overflowed retained cache', () => {
  let broker: Mosquitto
  const pool = new ClientPool('retained-overflow')
  beforeAll(async () => {
    broker = await Mosquitto.start({ persistence: false })
  })
  afterAll(async () => {
    await pool.endAll()
    await broker?.dispose()
  })

  it(`gets all ${TOPICS.toLocaleString('en')} retained topics exactly once; the first observer gets no duplicate`, async () => {
    const p = uniquePrefix('overflow')
    const publisher = await pool.connected(broker.tcpUrl)
    const batch: Promise<void>[] = []
    for (let i = 0; i < TOPICS; i++) {
      batch.push(publisher.publish(`${p}/${i}`, `v${i}`, { qos: 1, retain: true }))
      if (batch.length === 1_000) await Promise.all(batch.splice(0))
    }
    await Promise.all(batch)

    const client = await pool.connected(broker.tcpUrl)
    const filter = `${p}/+`
    const first = new Tally()
    const firstSub = client.observe(filter, { codec: 'text' }).subscribe((m) => first.add(m))
    await waitFor(() => first.retained.size === TOPICS, `the first observer's ${TOPICS} retained messages (has ${first.retained.size})`, 20_000)

    const late = new Tally()
    const lateSub = client.observe(filter, { codec: 'text' }).subscribe((m) => late.add(m))
    await waitFor(() => late.retained.size === TOPICS, `the late observer's ${TOPICS} retained messages`, 20_000).catch((error: Error) => {
      throw new Error(`${error.message}: it has ${late.retained.size}`)
    })

    // A live message after it: both get it once, and nothing else came meanwhile.
    await publisher.publish(`${p}/live`, 'now', { qos: 1 })
    await waitFor(() => first.live.length === 1 && late.live.length === 1, 'the live message at both observers')
    await new Promise((r) => setTimeout(r, 200))
    process.stdout.write(`late observer: ${late.retained.size} retained topics, ${late.duplicates} duplicates; first observer: ${first.retained.size}, ${first.duplicates} duplicates\n`)
    expect(late.duplicates).toBe(0)
    expect(first.duplicates).toBe(0)
    expect(first.retained.size).toBe(TOPICS)
    expect(first.live).toEqual([`${p}/live=now`])
    expect(late.live).toEqual([`${p}/live=now`])

    // A third observer, later still, the same.
    const third = new Tally()
    const thirdSub = client.observe(filter, { codec: 'text' }).subscribe((m) => third.add(m))
    await waitFor(() => third.retained.size === TOPICS, "the third observer's retained messages", 20_000)
    await new Promise((r) => setTimeout(r, 200))
    expect(third.duplicates).toBe(0)
    expect(first.duplicates + late.duplicates).toBe(0)
    firstSub.unsubscribe()
    lateSub.unsubscribe()
    thirdSub.unsubscribe()
  }, 60_000)
})
