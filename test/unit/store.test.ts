// The outbox's stores: every store passes the conformance checks; the file store survives crashes, torn and
// garbled records, and keeps one live client per client id.
import { spawn } from 'node:child_process'
import { type FileHandle, mkdtemp, open, readdir, readFile, rm, stat, truncate, utimes, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { fileStore } from '../../lib/store/file-store.js'
import { LOCK_LEASE_MS } from '../../lib/store/file-lock.js'
import { memoryStore } from '../../lib/store/memory-store.js'
import { storeConformance } from '../../lib/store/store-conformance.js'
import { StoreCorruptError, StoreLockedError } from '../../lib/errors.js'
import type { StoredMessage } from '../../lib/store/store.js'
import { crashBatches, crashPayload } from '../support/store-crash-ops.js'

let root = ''
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'iotpubsub-store-'))
})
afterAll(async () => {
  await rm(root, { recursive: true, force: true })
})

describe('memoryStore conforms', () => {
  const store = memoryStore()
  for (const check of storeConformance(() => store, 'memory', false)) it(check.name, check.run)
})

describe('fileStore conforms', () => {
  for (const check of storeConformance(() => fileStore(join(root, 'conformance')), 'file')) it(check.name, check.run)
})

const message = (i: number): StoredMessage => ({ id: `m${i}`, topic: `t/${i}`, payload: new Uint8Array(100).fill(i), qos: 1, retain: false })

describe('fileStore', () => {
  it('drops a record torn by a crash and keeps the ones before it', async () => {
    const dir = join(root, 'torn')
    const store = fileStore(dir)
    await store.open('c')
    for (const i of [1, 2, 3]) await store.write({ type: 'add', message: message(i) })
    await store.close()
    const log = join(dir, 'outbox-c.log')
    await truncate(log, (await stat(log)).size - 7)
    const again = fileStore(dir)
    const session = await again.open('c')
    await again.close()
    expect(session.messages.map((m) => m.id)).toEqual(['m1', 'm2'])
    expect(session.problems).toEqual([])
  })

  it('moves garbled bytes aside with a StoreCorruptError naming the file, and keeps what came before', async () => {
    const dir = join(root, 'garbled')
    const store = fileStore(dir)
    await store.open('c')
    for (const i of [1, 2, 3]) await store.write({ type: 'add', message: message(i) })
    await store.close()
    const log = join(dir, 'outbox-c.log')
    const bytes = await readFile(log)
    const second = bytes.length / 3 + 50
    bytes[second] = (bytes[second] ?? 0) ^ 0xff
    await writeFile(log, bytes)
    const again = fileStore(dir)
    const session = await again.open('c')
    await again.write({ type: 'add', message: message(4) })
    await again.close()
    expect(session.messages.map((m) => m.id)).toEqual(['m1'])
    expect(session.problems).toHaveLength(1)
    const problem = session.problems[0] as StoreCorruptError
    expect(problem).toBeInstanceOf(StoreCorruptError)
    expect(problem.message).toMatch(/checksum/)
    expect((await readFile(problem.file)).length).toBe(bytes.length - bytes.length / 3)
    const third = fileStore(dir)
    expect((await third.open('c')).messages.map((m) => m.id)).toEqual(['m1', 'm4'])
    await third.close()
  })

  it('makes the changes of one turn durable with one fsync', async () => {
    const dir = join(root, 'group')
    const store = fileStore(dir)
    await store.open('c')
    const probe = await open(join(dir, 'outbox-c.log'), 'r')
    const syncs = vi.spyOn(Object.getPrototypeOf(probe) as FileHandle, 'datasync')
    await probe.close()
    await Promise.all(Array.from({ length: 100 }, (_, i) => store.write({ type: 'add', message: message(i) })))
    expect(syncs).toHaveBeenCalledTimes(1)
    syncs.mockRestore()
    await store.close()
  })

  it('compacts a log grown past its live state', async () => {
    const dir = join(root, 'compact')
    const store = fileStore(dir, { compactAfterBytes: 64 * 1024 })
    await store.open('c')
    const log = join(dir, 'outbox-c.log')
    let largest = 0
    for (let round = 0; round < 200; round++) {
      await Promise.all([0, 1, 2, 3, 4].map((i) => store.write({ type: 'add', message: message(round * 5 + i) })))
      await Promise.all([0, 1, 2, 3, 4].map((i) => store.write({ type: 'remove', id: `m${round * 5 + i}` })))
      largest = Math.max(largest, (await stat(log)).size)
    }
    await store.close()
    // 1,000 messages of 100 bytes went through; the log never held much more than the threshold.
    expect(largest).toBeLessThan(2 * 64 * 1024)
    const again = fileStore(dir)
    expect((await again.open('c')).messages).toEqual([])
    await again.close()
    expect((await readdir(dir)).sort()).toEqual(['outbox-c.log'])
  })

  it('refuses a second live client of the id, in this process and in another, and takes over the lock of a dead one', async () => {
    const dir = join(root, 'locks')
    const first = fileStore(dir)
    await first.open('c')
    await expect(fileStore(dir).open('c')).rejects.toBeInstanceOf(StoreLockedError)
    await first.close()
    const lock = join(dir, 'outbox-c.lock')
    // A live process of this host holds it: refused, naming the process.
    const holder = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' })
    await writeFile(lock, `${holder.pid}\n${(await import('node:os')).hostname()}\n`)
    await expect(fileStore(dir).open('c')).rejects.toThrow(new RegExp(`process ${holder.pid}`))
    const exited = new Promise((resolve) => holder.once('exit', resolve))
    holder.kill('SIGKILL')
    await exited
    const taker = fileStore(dir)
    await taker.open('c')
    await taker.close()
    // Another host's lock: refused while renewed, taken over once its lease ran out.
    await writeFile(lock, '12345\nsome-other-host\n')
    await expect(fileStore(dir).open('c')).rejects.toBeInstanceOf(StoreLockedError)
    const old = new Date(Date.now() - LOCK_LEASE_MS - 1000)
    await utimes(lock, old, old)
    const second = fileStore(dir)
    await second.open('c')
    await second.close()
  })

  it('keeps every change whose write resolved across SIGKILLs at random moments, with compaction under way', async () => {
    const seed = Number(process.env.IOTPUBSUB_SEED ?? Date.now() % 100000)
    console.log(`store crash test seed ${seed} (IOTPUBSUB_SEED replays it)`)
    let random = seed
    const next = () => (random = (random * 1103515245 + 12345) % 2147483648) / 2147483648
    const dir = join(root, 'crash')
    for (let run = 0; run < 20; run++) {
      const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, '../support/store-crash-child.ts'), dir, `run${run}`, String(seed + run)], { stdio: ['ignore', 'pipe', 'inherit'] })
      const killAfter = 1 + Math.floor(next() * 60)
      let known = 0
      let batches = 0
      let text = ''
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
      child.stdout.on('data', (chunk: Buffer) => {
        text += chunk.toString()
        const lines = text.split('\n')
        text = lines.pop() ?? ''
        for (const line of lines) known = Math.max(known, Number(line))
        batches += lines.length
        if (batches >= killAfter) child.kill('SIGKILL')
      })
      await exited
      expect(batches, `run ${run} reported durable batches before its kill`).toBeGreaterThan(0)
      const store = fileStore(dir)
      const session = await store.open(`run${run}`)
      await store.close()
      expect(session.problems).toEqual([])
      const found = session.messages.map((m) => Number(m.id.slice(1)))
      for (const m of session.messages) {
        const id = Number(m.id.slice(1))
        expect([...m.payload], `run ${run}: message ${id} whole`).toEqual([...crashPayload(id)])
      }
      // Writes are durable in order: the store holds the state after some prefix of the changes, at least
      // as long as the part reported durable.
      const state = new Set<number>()
      let applied = 0
      let matched = false
      for (const batch of crashBatches(seed + run)) {
        for (const op of batch) {
          if (op.type === 'add') state.add(op.id)
          else state.delete(op.id)
          applied += 1
          if (applied >= known && state.size === found.length && found.every((id) => state.has(id))) matched = true
        }
        if (matched || applied > known + 2000) break
      }
      expect(matched, `run ${run}: the store holds the state after a prefix of at least ${known} changes (found ${found.length} messages)`).toBe(true)
      expect(found, `run ${run}: in the order added`).toEqual([...found].sort((a, b) => a - b))
    }
  }, 120_000)
})
