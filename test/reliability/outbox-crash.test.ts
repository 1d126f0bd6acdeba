// The durable outbox across SIGKILL: a child process (test/support/outbox-crash-child.ts) publishes QoS 1 with a
// file store and is killed at a random moment; a new process (this one) opens the same store with the same
// client id; every message the child's outbox$ reported `queued` before the kill reaches a subscriber. Once
// with the broker down while the child publishes, once with it live (messages in flight at the kill).
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { build } from 'esbuild'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connect, fileStore, type MQTTClient, type OutboxEvent } from '../../lib/node.js'
import { sharedBed } from '../support/bed.js'
import { ClientPool } from '../support/clients.js'
import { Mosquitto } from '../support/mosquitto.js'
import { noMosquitto } from '../support/binaries.js'
import { freePort } from '../support/ports.js'
import { uniquePrefix, waitFor } from '../support/wait.js'

const CHILD_SOURCE = join(import.meta.dirname, '../support/outbox-crash-child.ts')
/** The child bundled once into plain JavaScript: a process started under load costs less than one under tsx. */
let CHILD = ''

interface ChildRun {
  readonly published: string[]
  readonly queued: string[]
  readonly acknowledged: string[]
  readonly other: string[]
}

/** Runs the child until it has reported `killAfter` messages queued (0: after its first publish), then SIGKILLs it. */
async function runChild(url: string, dir: string, clientId: string, topic: string, killAfter: number, alsoKill: () => void = () => undefined): Promise<ChildRun> {
  const child = spawn(process.execPath, [CHILD, url, dir, clientId, topic, '300'], { stdio: ['ignore', 'pipe', 'inherit'] })
  const run: ChildRun = { published: [], queued: [], acknowledged: [], other: [] }
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const guard = setTimeout(() => child.kill('SIGKILL'), 30_000)
  let text = ''
  child.stdout.on('data', (chunk: Buffer) => {
    text += chunk.toString()
    const lines = text.split('\n')
    text = lines.pop() ?? ''
    for (const line of lines) {
      const [kind, id = ''] = line.split(' ')
      if (kind === 'P') run.published.push(id)
      else if (kind === 'Q') run.queued.push(id)
      else if (kind === 'A') run.acknowledged.push(id)
      else run.other.push(line)
    }
    // Lines read after the kill was sent may still come in this chunk: they were written before it.
    if ((killAfter === 0 ? run.published.length : run.queued.length) >= Math.max(1, killAfter) || run.queued.length >= 300) {
      child.kill('SIGKILL')
      alsoKill()
    }
  })
  await exited
  clearTimeout(guard)
  return run
}

describe.skipIf(noMosquitto())('outbox across SIGKILL', () => {
  const bed = sharedBed('outbox-crash')
  let root = ''
  let received = new Map<string, string[]>()
  let subscriber: MQTTClient | undefined
  const prefix = uniquePrefix('outbox-crash')
  const seed = Number(process.env.IOTPUBSUB_SEED ?? Date.now() % 100000)
  let random = seed
  const next = (): number => (random = (random * 1103515245 + 12345) % 2147483648) / 2147483648

  beforeAll(async () => {
    console.log(`outbox crash test seed ${seed} (IOTPUBSUB_SEED replays it)`)
    root = await mkdtemp(join(tmpdir(), 'iotpubsub-outbox-crash-'))
    CHILD = join(root, 'outbox-crash-child.mjs')
    await build({
      entryPoints: [CHILD_SOURCE],
      outfile: CHILD,
      bundle: true,
      platform: 'node',
      format: 'esm',
      logLevel: 'silent',
      // MQTT.js and its dependencies are CommonJS: they get a `require` in the bundle.
      banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
    })
    received = new Map()
    subscriber = await bed.pool.connected(bed.broker.tcpUrl)
    subscriber.observe(`${prefix}/#`, { qos: 1, codec: 'text' }).subscribe((m) => {
      const list = received.get(m.topic) ?? []
      list.push(m.payload)
      received.set(m.topic, list)
    })
    await bed.broker.waitForSubscription(subscriber.clientId, `${prefix}/#`, 1)
  })
  afterAll(async () => {
    await rm(root, { recursive: true, force: true, maxRetries: 5 })
  })

  /** Restores run `name`'s store in this process, against the live broker, until every message it must send has arrived. */
  async function restoreAndCheck(name: string, run: ChildRun, topic: string): Promise<{ restored: number; duplicates: number; inOrder: boolean }> {
    const restored: OutboxEvent[] = []
    const client = connect(bed.broker.tcpUrl, { clientId: name, store: fileStore(join(root, name)) })
    client.outbox$.subscribe((e) => restored.push(e))
    try {
      const owed = run.queued.filter((id) => !run.acknowledged.includes(id))
      await waitFor(() => owed.every((id) => restored.some((e) => e.id === id && e.state === 'queued')), `${name}: the ${owed.length} unacknowledged queued messages restored`, 15_000)
      await waitFor(() => restored.filter((e) => e.state === 'queued').every((q) => restored.some((e) => e.id === q.id && e.state !== 'queued' && e.state !== 'sent')), `${name}: every restored message settled`, 15_000)
      const got = (): string[] => received.get(topic) ?? []
      await waitFor(() => run.queued.every((id) => got().includes(id)), `${name}: every queued message arrived`, 15_000)
      expect(restored.filter((e) => e.state === 'failed' || e.state === 'expired'), `${name}: nothing restored failed`).toEqual([])
      // Nothing arrives that publish() was not called for.
      for (const id of got()) expect(run.published, `${name}: ${id} was published`).toContain(id)
      const list = got()
      const numbers = [...new Set(list)].map((id) => Number(id.slice(1)))
      return { restored: restored.filter((e) => e.state === 'queued').length, duplicates: list.length - new Set(list).size, inOrder: numbers.every((n, i) => i === 0 || n > (numbers[i - 1] as number)) }
    } finally {
      await client.end()
    }
  }

  it('broker down while publishing: every message reported queued before the kill arrives after the restart (20 runs)', async () => {
    const dead = `mqtt://127.0.0.1:${await freePort()}`
    let duplicates = 0
    let outOfOrder = 0
    for (let r = 0; r < 20; r++) {
      const name = `down-${process.pid}-${r}`
      const topic = `${prefix}/down/${r}`
      const killAfter = Math.floor(next() * 60)
      const run = await runChild(dead, join(root, name), name, topic, killAfter)
      expect(run.other, `run ${r}: the child reported no failure`).toEqual([])
      const outcome = await restoreAndCheck(name, run, topic)
      duplicates += outcome.duplicates
      if (!outcome.inOrder) outOfOrder += 1
    }
    console.log(`outbox crash, broker down: 20 runs, ${duplicates} duplicates, ${outOfOrder} runs out of order`)
    // The broker was never reached before the kill: nothing can have arrived twice, and all goes in order.
    expect(duplicates).toBe(0)
    expect(outOfOrder).toBe(0)
  }, 120_000)

  it('broker live, messages in flight at the kill: every one reported queued arrives, at least once (10 runs)', async () => {
    let duplicates = 0
    let restored = 0
    for (let r = 0; r < 10; r++) {
      const name = `live-${process.pid}-${r}`
      const topic = `${prefix}/live/${r}`
      const killAfter = 1 + Math.floor(next() * 150)
      const run = await runChild(bed.broker.tcpUrl, join(root, name), name, topic, killAfter)
      expect(run.other, `run ${r}: the child reported no failure`).toEqual([])
      const outcome = await restoreAndCheck(name, run, topic)
      duplicates += outcome.duplicates
      restored += outcome.restored
    }
    console.log(`outbox crash, broker live: 10 runs, ${restored} messages restored, ${duplicates} delivered twice (in flight at the kill, or acknowledged before their removal was durable)`)
  }, 90_000)

  it('broker killed with the publisher: every message reported queued and not yet acknowledged arrives after both restart (5 runs)', async () => {
    // A broker of its own, restarted here without persistence: what it had acknowledged and not yet delivered
    // dies with it (QoS is per hop); what the outbox still held is the publisher's to send again.
    const broker = await Mosquitto.start({ persistence: false, extra: ['log_type all'] })
    const pool = new ClientPool('outbox-crash-broker')
    try {
      const watcher = await pool.connected(broker.tcpUrl, { reconnect: { initialDelay: 50, maxDelay: 200 } })
      const filter = `${prefix}/both/#`
      const got = new Map<string, string[]>()
      watcher.observe(filter, { qos: 1, codec: 'text' }).subscribe((m) => got.set(m.topic, [...(got.get(m.topic) ?? []), m.payload]))
      const subscribed = async (times: number): Promise<void> => {
        await waitFor(async () => (await broker.log()).split('\n').filter((line) => line.endsWith(` 1 ${filter}`) && line.includes(watcher.clientId)).length >= times, `the watcher subscribed ${times} times`, 15_000)
      }
      await subscribed(1)
      let owedTotal = 0
      for (let r = 0; r < 5; r++) {
        const name = `both-${process.pid}-${r}`
        const topic = `${prefix}/both/${r}`
        const killAfter = 1 + Math.floor(next() * 150)
        const run = await runChild(broker.tcpUrl, join(root, name), name, topic, killAfter, () => broker.signal('SIGKILL'))
        expect(run.other, `run ${r}: the child reported no failure`).toEqual([])
        await broker.restart()
        await subscribed(r + 2)
        const owed = run.queued.filter((id) => !run.acknowledged.includes(id))
        owedTotal += owed.length
        const client = connect(broker.tcpUrl, { clientId: name, store: fileStore(join(root, name)) })
        try {
          await waitFor(() => owed.every((id) => (got.get(topic) ?? []).includes(id)), `${name}: the ${owed.length} queued and unacknowledged messages arrived`, 15_000)
        } finally {
          await client.end()
        }
      }
      console.log(`outbox crash, broker killed too: 5 runs, ${owedTotal} messages queued and unacknowledged at the kill, all arrived`)
    } finally {
      await pool.endAll()
      await broker.dispose()
    }
  }, 90_000)
})
