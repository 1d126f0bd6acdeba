// One outbox trial in a fresh process (`node --import tsx --expose-gc`), its result as one JSON line on stdout.
// Arguments: mode ('throughput' | 'queued'), store ('none' | 'memory' | 'file'), url, count, dir, link ('lean' | 'mqttjs').
// throughput: QoS 1 publishes of 100 B, 500 unacknowledged at most, to a live broker: CPU and wall time from the
// first publish to the last settle. queued: publishes to a broker out of reach until outbox$ has reported each
// one queued (durable, with the file store): heap after gc() and the store's bytes on disk, per message.
import { readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import type { Store } from '../lib/node.js'

const [mode = 'throughput', storeKind = 'none', url = '', countText = '10000', dir = '', linkText = 'lean'] = process.argv.slice(2)
const link = linkText === 'mqttjs' ? 'mqttjs' : 'lean'
const sdk = (await import(process.env.IOTPUBSUB_BENCH_SDK ?? '../lib/node.js')) as typeof import('../lib/node.js')
const count = Number(countText)
const payload = new Uint8Array(100).fill(120)
const store: Store | undefined = storeKind === 'file' ? sdk.fileStore(dir) : storeKind === 'memory' ? sdk.memoryStore() : undefined
const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined)

async function diskBytes(): Promise<number> {
  if (storeKind !== 'file') return 0
  let total = 0
  for (const name of await readdir(dir)) if (name.endsWith('.log')) total += (await stat(join(dir, name))).size
  return total
}

if (mode === 'throughput') {
  const client = sdk.connect(url, { clientId: `bench-outbox-${process.pid}`, link, ...(store ? { store } : {}), offlineQueue: { maxMessages: count, maxBytes: count * 200 } })
  await client.connected()
  let next = 0
  let settled = 0
  const start = process.cpuUsage()
  const t0 = performance.now()
  await new Promise<void>((done) => {
    const more = (): void => {
      while (next < count && next - settled < 500) {
        next += 1
        client.publish('bench/nobody/outbox', payload, { qos: 1 }).then(() => {
          settled += 1
          if (settled === count) done()
          else more()
        }, done)
      }
    }
    more()
  })
  const seconds = (performance.now() - t0) / 1000
  const cpu = process.cpuUsage(start)
  process.stdout.write(`${JSON.stringify({ cpuMicros: cpu.user + cpu.system, seconds, count })}\n`)
  await client.end()
} else {
  const client = sdk.connect(url, { clientId: `bench-outbox-${process.pid}`, link, reconnect: { initialDelay: 60_000, maxDelay: 60_000 }, ...(store ? { store } : {}), offlineQueue: { maxMessages: count, maxBytes: count * 200 } })
  let queued = 0
  client.outbox$.subscribe((e) => void (e.state === 'queued' && (queued += 1)))
  await new Promise((r) => setTimeout(r, 200))
  gc()
  const before = process.memoryUsage().heapUsed
  for (let i = 0; i < count; i++) client.publish('bench/nobody/outbox', payload, { qos: 1 }).catch(() => undefined)
  while (queued < count) await new Promise((r) => setTimeout(r, 10))
  gc()
  const after = process.memoryUsage().heapUsed
  process.stdout.write(`${JSON.stringify({ heapPerMessage: (after - before) / count, diskPerMessage: (await diskBytes()) / count, count })}\n`)
  await client.end({ force: true })
}
