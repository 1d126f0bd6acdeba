/**
 * Issue 24's case: QoS 1 publishing with the outbox's stores, each trial a fresh process (bench/outbox-worker.ts),
 * on each SDK link of the run. Throughput and publisher CPU per message with no store (the default),
 * `memoryStore()` and `fileStore(dir)`; then the outbox's heap and disk per queued message (broker out of reach).
 * The file store's fsync policy: one `fdatasync` per group commit, that is for all the changes made in a turn of
 * the event loop and while the previous write was under way; a publish is sent once its record is durable.
 * Budgets bound memory and disk per queued message (what an offline device pays); the rest is for information.
 */
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { BenchCase, Row } from './cases.js'
import { benchDir, median, orderFor, scaled, sdkBuildDir } from './harness.js'
import { isSdk } from './protocol.js'
import { freePort } from '../test/support/ports.js'

type StoreKind = 'none' | 'memory' | 'file'
const STORES: readonly StoreKind[] = ['none', 'memory', 'file']
/** Heap per message queued offline, 100 B payload, any store: the outbox's objects stay small. */
const HEAP_BUDGET_BYTES = 2_048
/** The file store's log per queued message of 100 B: its record's framing and header, not a copy per change. */
const DISK_BUDGET_BYTES = 512

async function runWorker(args: string[]): Promise<Record<string, number>> {
  const env: NodeJS.ProcessEnv = { ...process.env, IOTPUBSUB_BENCH_SDK: pathToFileURL(join(sdkBuildDir, 'node.js')).href }
  delete env.IOTPUBSUB_LINK
  const child = spawn(process.execPath, ['--import', 'tsx', '--expose-gc', join(benchDir, 'outbox-worker.ts'), ...args], { stdio: ['ignore', 'pipe', 'inherit'], env })
  let out = ''
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()))
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve))
  const line = out.trim().split('\n').at(-1) ?? ''
  if (code !== 0 || !line.startsWith('{')) throw new Error(`outbox worker ${args.join(' ')} failed (exit ${code}): ${out}`)
  return JSON.parse(line) as Record<string, number>
}

const row = (link: 'mqttjs' | 'lean', measure: string, sdk: number[], unit: Row['unit'], budget?: number): Row => ({
  case: 'outbox-qos1',
  link,
  measure,
  sdk: median(sdk),
  raw: undefined,
  ratio: undefined,
  unit,
  budget: budget === undefined ? undefined : `SDK ≤ ${budget} B`,
  pass: budget === undefined ? undefined : median(sdk) <= budget,
  sdkRange: [Math.min(...sdk), Math.max(...sdk)],
})

export const outboxCase: BenchCase = {
  id: 'outbox-qos1',
  async run(context) {
    const count = scaled(context.config, 20_000, 500)
    const queuedCount = scaled(context.config, 10_000, 500)
    const links = context.config.impls.filter(isSdk).map((impl) => (impl === 'sdk' ? 'mqttjs' : 'lean') as 'mqttjs' | 'lean')
    const empty = (): Record<StoreKind, number[]> => ({ none: [], memory: [], file: [] })
    const results = Object.fromEntries(links.map((link) => [link, { cpu: empty(), rate: empty(), heap: empty(), disk: [] as number[] }]))
    const dead = `mqtt://127.0.0.1:${await freePort()}`
    for (let rep = 0; rep < context.config.reps; rep++) {
      for (const link of links) {
        const r = results[link]!
        for (const store of orderFor(rep, STORES)) {
          const dir = await mkdtemp(join(tmpdir(), 'iotpubsub-bench-outbox-'))
          try {
            const t = await runWorker(['throughput', store, context.broker.tcpUrl, String(count), dir, link])
            const q = await runWorker(['queued', store, dead, String(queuedCount), join(dir, 'queued'), link])
            r.cpu[store].push((t.cpuMicros ?? 0) / count)
            r.rate[store].push(count / (t.seconds ?? 1))
            r.heap[store].push(q.heapPerMessage ?? 0)
            if (store === 'file') r.disk.push(q.diskPerMessage ?? 0)
            context.log(`  outbox rep ${rep + 1} ${link} ${store}: ${((t.cpuMicros ?? 0) / count).toFixed(2)} µs/msg, ${Math.round(count / (t.seconds ?? 1))} msg/s; queued: ${Math.round(q.heapPerMessage ?? 0)} B heap/msg${store === 'file' ? `, ${Math.round(q.diskPerMessage ?? 0)} B disk/msg` : ''}`)
          } finally {
            await rm(dir, { recursive: true, force: true })
          }
        }
      }
    }
    const rows: Row[] = []
    for (const link of links) {
      const r = results[link]!
      for (const store of STORES) {
        const name = store === 'none' ? 'no store' : `${store}Store()`
        rows.push(row(link, `${name}: publisher CPU µs/msg`, r.cpu[store], 'us'))
        rows.push(row(link, `${name}: msg/s`, r.rate[store], 'int'))
        rows.push(row(link, `${name}: heap B per queued message`, r.heap[store], 'bytes', HEAP_BUDGET_BYTES))
      }
      rows.push(row(link, 'fileStore(): disk B per queued message', r.disk, 'bytes', DISK_BUDGET_BYTES))
    }
    return {
      id: 'outbox-qos1',
      title: 'QoS 1, 100 B, 500 in flight: no store, memoryStore(), fileStore() (one fdatasync per group commit); and per message queued while the broker is out of reach, heap after gc() and log bytes on disk',
      params: { count, queuedCount, reps: context.config.reps, links },
      rows,
      samples: results,
    }
  },
}
